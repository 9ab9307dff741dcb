// How values read on the page: revisions, times, durations, counts.

/** A commit as its first 7 characters; an OCI reference as tag@sha256:<12>. */
export function shortRevision(revision) {
  if (!revision) return "–";
  const at = revision.indexOf("@sha256:");
  if (at >= 0) return revision.slice(0, at + 8 + 12);
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision;
}

/** The API's fixed-width UTC time (`2026-11-26T12:00:00.000000Z`) as a Date. */
export function parseTime(text) {
  if (!text) return null;
  const date = new Date(text.replace(/(\.\d{3})\d*Z$/, "$1Z"));
  return Number.isNaN(date.getTime()) ? null : date;
}

const timeOfDay = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
  timeZone: "UTC",
});
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
  timeZone: "UTC",
});

/** A time as it is shown: the time of day (UTC) for today, else day and time (UTC). */
export function showTime(text) {
  const date = parseTime(text);
  if (!date) return "–";
  const today = new Date().toISOString().slice(0, 10) === date.toISOString().slice(0, 10);
  return `${(today ? timeOfDay : dayAndTime).format(date)} UTC`;
}

/** Seconds as `45 s`, `5 min`, `1 h 30 min`, `2 d`. */
export function showSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) {
    const hours = Math.floor(s / 3600);
    const minutes = Math.round((s % 3600) / 60);
    return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  }
  return `${Math.round(s / 86400)} d`;
}

/** How long from one API time to another (or to now). */
export function between(from, to) {
  const start = parseTime(from);
  if (!start) return "–";
  const end = parseTime(to) || new Date();
  return showSeconds(Math.max(0, (end - start) / 1000));
}

/** `3 clusters`, `1 cluster`. */
export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}
