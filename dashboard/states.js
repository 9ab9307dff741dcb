// Each state's tone (its colour, in app.css) and the words shown with it: colour is never
// the only sign of a state, the label always goes with it.

const TONES = {
  // rollouts
  Running: "busy",
  WaitingForApproval: "wait",
  Paused: "wait",
  Succeeded: "ok",
  Superseded: "muted",
  Aborted: "muted",
  // waves
  Applying: "busy",
  Soaking: "busy",
  // clusters
  Pending: "idle",
  Progressing: "busy",
  Healthy: "ok",
  Failed: "bad",
  Offline: "muted",
  Skipped: "muted",
  RollingBack: "back",
  RolledBack: "back",
  RollbackFailed: "bad",
};

const LABELS = {
  WaitingForApproval: "Waiting for approval",
  RolledBack: "Rolled back",
  RollingBack: "Rolling back",
  RollbackFailed: "Rollback failed",
};

export const FINAL = new Set(["Succeeded", "Failed", "RolledBack", "Aborted", "Superseded"]);
export const ROLLOUT_STATES = [
  "Pending",
  "Running",
  "WaitingForApproval",
  "Paused",
  "Succeeded",
  "Failed",
  "RolledBack",
  "Aborted",
  "Superseded",
];
export const CLUSTER_STATES = [
  "Failed",
  "RollbackFailed",
  "RollingBack",
  "RolledBack",
  "Applying",
  "Progressing",
  "Pending",
  "Offline",
  "Skipped",
  "Healthy",
];

export function tone(state) {
  return TONES[state] || "idle";
}

export function label(state) {
  return LABELS[state] || state || "–";
}

/** Whether a rollout in `state` will not change again. */
export function isFinal(state) {
  return FINAL.has(state);
}
