// What a signed-in user may do to a rollout, as buttons: each asks for confirmation in a
// <dialog>, sends the command, and shows the app's answer; a refusal in the app's own words.
// The buttons follow the user's roles (GET /api/ui/api/me) and the rollout's state; the app
// decides all the same.

import { path, post } from "./api.js";
import { h, replace } from "./dom.js";
import { shortRevision } from "./format.js";
import { isFinal, label } from "./states.js";
import { rolloutLink } from "./widgets.js";

/** The actions `me` may take on `rollout` now. */
export function actionsFor(rollout, me) {
  const may = (me && me.may) || {};
  const state = rollout.state;
  const id = rollout.id;
  const list = [];
  if (may.approve && state === "WaitingForApproval") {
    const waiting = rollout.waves.filter((w) => w.state === "WaitingForApproval").map((w) => w.name);
    const waves = waiting.length ? waiting.join(", ") : "the waiting wave";
    list.push({
      command: "approve",
      text: `Approve wave ${waves}`,
      primary: true,
      question: `Approve wave ${waves} of rollout ${id}? Its clusters get revision ${shortRevision(rollout.revision)}; the approval is recorded under your name.`,
    });
  }
  if (may.operate && ["Pending", "Running", "WaitingForApproval"].includes(state)) {
    list.push({
      command: "pause",
      text: "Pause",
      question: `Pause rollout ${id}? Clusters being written finish; no new cluster is written until it is resumed.`,
    });
  }
  if (may.operate && state === "Paused") {
    list.push({ command: "resume", text: "Resume", question: `Resume rollout ${id}?` });
  }
  if (may.operate && !isFinal(state)) {
    list.push({
      command: "abort",
      text: "Abort",
      danger: true,
      question: `Abort rollout ${id}? No further cluster is written.`,
      option: { name: "rollback", text: "Also roll back the clusters this rollout changed", checked: true },
    });
  }
  if (may.operate && isFinal(state) && state !== "RolledBack" && rollout.previousRevision) {
    list.push({
      command: "rollback",
      text: "Roll back",
      danger: true,
      question: `Start a rollout of ${shortRevision(rollout.previousRevision)}, the revision good before ${id}, through the track's waves and gates?`,
      option: { name: "fast", text: "Fast: every cluster at once, gates off", checked: false },
    });
  }
  return list;
}

/** The buttons of `actions`; `done(answer)` after the app took a command. */
export function actionBar(rollout, actions, outcome, done) {
  if (!actions.length) return null;
  return h(
    "div",
    { class: "actions", role: "group", "aria-label": "Actions" },
    actions.map((action) =>
      h(
        "button",
        {
          type: "button",
          class: action.primary ? "primary" : action.danger ? "danger" : "",
          dataset: { command: action.command },
          on: { click: () => run(rollout, action, outcome, done) },
        },
        action.text,
      ),
    ),
  );
}

async function run(rollout, action, outcome, done) {
  const answer = await ask(action);
  if (!answer.confirmed) return;
  const body = action.option ? { [action.option.name]: answer.checked } : {};
  replace(outcome, h("p", { class: "quiet" }, `Sending ${action.command}…`));
  try {
    const result = await post(`/rollouts/${path(rollout.id)}/${action.command}`, body);
    replace(outcome, accepted(action, result));
    done(result);
  } catch (error) {
    replace(
      outcome,
      h("div", { class: "error", role: "alert" }, h("strong", null, `${action.text} refused: `), error.message),
    );
  }
}

function accepted(action, result) {
  if (result && result.undoes) {
    return h(
      "p",
      { class: "ok", role: "status" },
      "Rollback started: rollout ",
      rolloutLink(result.rolloutId),
      ` rolls ${shortRevision(result.revision)} out${result.queued ? " (queued behind the running one)" : ""}.`,
    );
  }
  return h(
    "p",
    { class: "ok", role: "status" },
    `${action.text}: accepted; the rollout is ${label(result && result.state)}.`,
  );
}

/** Ask in the page's <dialog>: {confirmed, checked}. */
function ask(action) {
  const dialog = document.getElementById("confirm");
  const option = action.option
    ? h("input", { type: "checkbox", id: "confirm-option", checked: action.option.checked })
    : null;
  replace(
    dialog,
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: "confirm-title" }, `${action.text}?`),
      h("p", { id: "confirm-text" }, action.question),
      option ? h("p", null, option, " ", h("label", { for: "confirm-option" }, action.option.text)) : null,
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { value: "cancel", autofocus: true }, "Cancel"),
        h("button", { value: "confirm", class: action.danger ? "danger" : "primary" }, action.text),
      ),
    ),
  );
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve({ confirmed: dialog.returnValue === "confirm", checked: option ? option.checked : false }),
      { once: true },
    );
    dialog.showModal();
  });
}
