// The dashboard's requests: the browser routes under /api/ui/api, with the session cookie
// App Service authentication keeps (no key ever reaches the browser). A request that is not
// a read carries `X-Arcwave-Request: 1`, without which the app refuses it (CSRF).

const BASE = "/api/ui/api";

export class ApiError extends Error {
  constructor(status, body, text) {
    super((body && body.error) || text || `the app answered ${status}`);
    this.status = status;
    this.body = body;
  }

  /** Where to sign in, when the answer says the browser is not signed in. */
  get login() {
    return this.status === 401 && this.body ? this.body.login : null;
  }
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (method !== "GET") {
    headers["X-Arcwave-Request"] = "1";
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body || {});
  }
  const response = await fetch(BASE + path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data, text.slice(0, 300));
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

/** `?a=1&b=2` from the entries of `params` that have a value. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const path = (...parts) => parts.map((p) => encodeURIComponent(p)).join("/");
