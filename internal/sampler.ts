/**
 * The sampler `OTEL_TRACES_SAMPLER` names. Go's SDK and the JavaScript
 * `sdk-node` package read that variable themselves; the JavaScript SDK
 * packages dice uses do not, so dice reads it (`internal/sdk_config.ts`)
 * and makes the sampler here.
 *
 * @module
 */

import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace";
import type { SamplerConfig } from "./sdk_config.ts";

/** The sampler `OTEL_TRACES_SAMPLER` names, with its ratio argument. */
export function newSampler({ name, ratio }: SamplerConfig): Sampler {
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({
        root: new TraceIdRatioBasedSampler(ratio),
      });
  }
}
