/**
 * The resource every signal carries: the SDK's defaults, this service's
 * name, version and runtime, a `service.instance.id` of its own, then what
 * `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME` say, read by the
 * resources package's own detectors.
 *
 * The instance id tells apart the metric streams of replicas and workers
 * that share a service name: without it, a collector sees one cumulative
 * series that jumps back and forth between their counts. It is a random
 * UUID per SDK setup, not the package's `serviceInstanceIdDetector`, which
 * keeps one id per loaded module however often the SDK is set up again.
 *
 * The detectors drop a malformed `OTEL_RESOURCE_ATTRIBUTES` as a whole, as
 * the specification says, and say so only in a debug message: dice says it
 * in one line. Keys and values are trimmed by the detector; the service
 * name is taken as it is set.
 *
 * @module
 */

import {
  defaultResource,
  detectResources,
  type Resource,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
  serviceNameEnvDetector,
} from "@opentelemetry/resources";
import {
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";
import {
  ATTR_PROCESS_RUNTIME_DESCRIPTION,
  ATTR_PROCESS_RUNTIME_NAME,
  ATTR_PROCESS_RUNTIME_VERSION,
} from "@opentelemetry/semantic-conventions/incubating";
import denoJson from "../deno.json" with { type: "json" };
import type { EnvReader } from "./env.ts";
import { shown } from "./env.ts";

/** The service's name when `OTEL_SERVICE_NAME` does not say another. */
export const SERVICE_NAME = "dice";

/**
 * The SDK's default resource, this service's name, version, runtime and a
 * new instance id, and then `OTEL_RESOURCE_ATTRIBUTES` and
 * `OTEL_SERVICE_NAME` over them. For `worker` N of `deno task serve`, an
 * instance id given in `OTEL_RESOURCE_ATTRIBUTES` becomes `<id>-N`, since
 * every worker reads the same variable and the ids must stay distinct.
 */
export function newResource(worker?: number): Resource {
  const given = detectResources({
    detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector],
  });
  const givenId = given.attributes[ATTR_SERVICE_INSTANCE_ID];
  const resource = defaultResource()
    .merge(resourceFromAttributes({
      [ATTR_SERVICE_NAME]: SERVICE_NAME,
      [ATTR_SERVICE_VERSION]: denoJson.version,
      // The SDK's process detector would say "nodejs" here: we run on Deno.
      [ATTR_PROCESS_RUNTIME_NAME]: "deno",
      [ATTR_PROCESS_RUNTIME_VERSION]: Deno.version.deno,
      [ATTR_PROCESS_RUNTIME_DESCRIPTION]: "Deno",
      [ATTR_SERVICE_INSTANCE_ID]: crypto.randomUUID(),
    }))
    .merge(given);
  if (worker === undefined || givenId === undefined) return resource;
  return resource.merge(resourceFromAttributes({
    [ATTR_SERVICE_INSTANCE_ID]: `${givenId}-${worker}`,
  }));
}

/**
 * The `service.instance.id` that `OTEL_RESOURCE_ATTRIBUTES` gives, if any:
 * under `deno task serve`, every worker would share it.
 */
export function givenInstanceId(): string | undefined {
  const { attributes } = resourceAttributesEnvDetector.detect();
  const id = attributes?.[ATTR_SERVICE_INSTANCE_ID];
  return id === undefined ? undefined : String(id);
}

/**
 * Says in one line when `OTEL_RESOURCE_ATTRIBUTES` is set to something the
 * detector ignores. The detector reads the process environment, so this
 * asks it about the same.
 */
export function sayIgnoredResourceAttributes(read: EnvReader): void {
  const raw = read.get("OTEL_RESOURCE_ATTRIBUTES");
  if (raw === undefined || !/[^,\s]/.test(raw)) return;
  const { attributes } = resourceAttributesEnvDetector.detect();
  if (Object.keys(attributes ?? {}).length > 0) return;
  read.say(
    "OTEL_RESOURCE_ATTRIBUTES must be a comma-separated list of key=value " +
      "pairs, with ',' and '=' inside keys and values percent-encoded and " +
      "each key and value at most 255 characters; " +
      `got ${shown(raw)}; ignoring it`,
  );
}
