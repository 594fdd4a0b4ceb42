// The dashboard's only door to the collector: the Stats API v2 and the site's saved segments,
// funnels and share links, with the signed-in token. Answers the JSON body; throws an ApiError
// carrying the API's own error code and message.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || body?.error || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error || "";
  }
}

/** A client for one signed-in site. */
export function client(token) {
  async function call(method, path, body) {
    let res;
    try {
      res = await fetch(path, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new ApiError(0, { error: "offline", message: `The collector could not be reached (${e.message}).` });
    }
    let json = null;
    try {
      json = await res.json();
    } catch {
      json = null;
    }
    if (!res.ok) throw new ApiError(res.status, json);
    return json;
  }
  return {
    query: (body) => call("POST", "/api/v2/query", body),
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
    del: (path) => call("DELETE", path),
  };
}
