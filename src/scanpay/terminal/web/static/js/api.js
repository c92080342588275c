// The agent's JSON API, same origin, authenticated by the HttpOnly session cookie.

import { t } from "./i18n.js";

/** An error answer of the agent: `{"error": {"code", "message", "field", "detail"}}`. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message?.en || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || "http_error";
    this.texts = error?.message || null;
    this.field = error?.field || null;
    this.detail = error?.detail ?? null;
  }
}

let onLoggedOut = () => {};

/** Called when the agent says the session is gone (401 not_logged_in). */
export function whenLoggedOut(handler) {
  onLoggedOut = handler;
}

/**
 * Call the agent. `body`: an object (sent as JSON) or FormData. Returns the
 * decoded JSON (null for 204); throws ApiError for an error answer.
 */
export async function api(method, path, body = undefined, { signal } = {}) {
  const init = { method, credentials: "same-origin", headers: {}, signal };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, {
      code: "network_error",
      message: { "zh-CN": t("network_error"), en: t("network_error") },
    });
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data?.error);
    if (error.code === "not_logged_in") onLoggedOut();
    throw error;
  }
  return data;
}

export const get = (path, options) => api("GET", path, undefined, options);
export const post = (path, body, options) => api("POST", path, body ?? {}, options);
