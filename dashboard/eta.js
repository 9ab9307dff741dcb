// The ETA of a plan or a running rollout (the API's `eta`): when it finishes at the earliest,
// each wave's earliest start and finish, its batches, and the waits of unknown length
// (approvals, a pause) that the times assume end at once.

import { h } from "./dom.js";
import { between, plural, showSeconds, showTime } from "./format.js";

/** ISO 8601 duration (`PT1H30M`, `P1DT2H`, `PT0.5S`) in seconds; null when unreadable. */
export function isoSeconds(text) {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text || "");
  if (!m) return null;
  const [days, hours, minutes, seconds] = m.slice(1).map((v) => Number(v || 0));
  return ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
}

/** The whole rollout: when it finishes at the earliest, from when, and what may delay it. */
export function etaSummary(eta) {
  if (!eta) return null;
  const finish = eta.finish
    ? [h("strong", null, showTime(eta.finish)), ` (${between(eta.asOf, eta.finish)} from ${showTime(eta.asOf)})`]
    : h("strong", null, "never: a wave cannot finish (see its wave)");
  return h(
    "div",
    { class: "eta" },
    h("p", null, "Earliest finish: ", finish, "."),
    eta.unknownWaits.length
      ? h("p", { class: "notice-line" }, "Unknown waits, assumed to end at once: ", eta.unknownWaits.join("; "), ".")
      : null,
    h(
      "p",
      { class: "quiet" },
      `Each cluster takes its wave's expected reconcile time; ARM writes are paced at ${eta.writeBurst} at once, then ${eta.writesPerSecond}/s per subscription.`,
    ),
  );
}

/** One wave: earliest start and finish, its reconcile time and source, its waits. */
export function waveEta(wave) {
  if (!wave) return null;
  if (wave.phase === "done") return h("p", { class: "eta-wave quiet" }, "Done: takes no more time.");
  const reconcile = `${showSeconds(isoSeconds(wave.reconcile.duration))} per cluster (${source(wave.reconcile)})`;
  return h(
    "div",
    { class: "eta-wave" },
    h(
      "p",
      null,
      wave.finish
        ? `Earliest start ${showTime(wave.start)}, finish ${showTime(wave.finish)}; `
        : "Cannot finish; ",
      reconcile,
      isoSeconds(wave.soak) ? `, soak ${showSeconds(isoSeconds(wave.soak))}` : "",
      ".",
    ),
    wave.blocked ? h("p", { class: "error" }, wave.blocked) : null,
    wave.waits.length ? h("p", { class: "notice-line" }, wave.waits.join("; ")) : null,
  );
}

/** The wave's batches: the clusters written together into its window, with their times. */
export function batchList(wave, name = (id) => id.split("/").pop()) {
  if (!wave || !wave.batches.length) return null;
  return h(
    "ol",
    { class: "batches", "aria-label": `Batches of wave ${wave.name}` },
    wave.batches.map((b) =>
      h(
        "li",
        { dataset: { batch: String(b.number) } },
        h("strong", null, `Batch ${b.number}`),
        b.written ? " (written)" : "",
        `: ${plural(b.clusters.length, "cluster")}, ${showTime(b.start)} → ${showTime(b.finish)}`,
        b.lastWrite !== b.start ? ` (writes until ${showTime(b.lastWrite)})` : "",
        h("span", { class: "quiet" }, ` — ${b.clusters.slice(0, 6).map(name).join(", ")}${b.clusters.length > 6 ? ", …" : ""}`),
      ),
    ),
  );
}

function source(reconcile) {
  if (reconcile.source === "history") return `learned from ${plural(reconcile.samples, "cluster")}`;
  if (reconcile.source === "default") return "default";
  return `set on the ${reconcile.source}`;
}
