// The OpenTelemetry JS getting-started dice app, with the same manual roll
// span, dice.rolls counter and log record as dice's rolldice.ts.
"use strict";

const express = require("express");
const { logs, metrics, SeverityNumber, trace } = require("@opentelemetry/api");

const tracer = trace.getTracer("dice");
const meter = metrics.getMeter("dice");
const logger = logs.getLogger("dice");
const rollCnt = meter.createCounter("dice.rolls", {
  description: "The number of rolls by roll value",
  unit: "{roll}",
});

function rolldice(request, response) {
  tracer.startActiveSpan("roll", (span) => {
    const roll = 1 + Math.floor(Math.random() * 6);
    const player = request.params.player;
    logger.emit({
      severityNumber: SeverityNumber.INFO,
      severityText: "INFO",
      body: player ? `${player} is rolling the dice` : "Anonymous player is rolling the dice",
      attributes: { result: roll },
    });
    span.setAttribute("roll.value", roll);
    rollCnt.add(1, { "roll.value": roll });
    span.end();
    response.type("text/plain").send(`${roll}\n`);
  });
}

const app = express();
app.get("/rolldice", rolldice);
app.get("/rolldice/:player", rolldice);
const port = Number(process.env.PORT ?? 8080);
app.listen(port, "127.0.0.1", () => console.error(`listening on http://127.0.0.1:${port}/`));
