// The Platform API calls the app makes, with the signed-in user's token, and the configuration's
// read/write path (the Data Table storage layout of profiles/table_layout.py, ported in
// engine/layout.js), its concurrency check and the system-queue signal.

import * as layout from "./engine/layout.js";

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export class ConflictError extends Error {
  constructor(currentHead, currentText) {
    super("the configuration row changed since it was loaded");
    this.currentHead = currentHead;
    this.currentText = currentText;
  }
}

export class Api {
  constructor(apiBase, token, onUnauthorized) {
    this.apiBase = apiBase;
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  async call(method, path, { query = null, body = undefined, allow404 = false } = {}) {
    if (this.token.expiresAt <= Date.now()) {
      this.onUnauthorized();
      throw new ApiError(401, "your Genesys Cloud session expired");
    }
    const url = `${this.apiBase}${path}${query ? `?${new URLSearchParams(query)}` : ""}`;
    const headers = { Authorization: `Bearer ${this.token.accessToken}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (exc) {
      throw new ApiError(0, `cannot reach Genesys Cloud (${exc.message})`);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    if (response.status === 404 && allow404) return null;
    if (response.status === 401) {
      this.onUnauthorized();
      throw new ApiError(401, "your Genesys Cloud session expired", data);
    }
    if (!response.ok) {
      const message = (data && data.message) || `${method} ${path} answered ${response.status}`;
      throw new ApiError(response.status, message, data);
    }
    return data;
  }

  async pages(path, query = {}) {
    const out = [];
    for (let page = 1; page < 1000; page += 1) {
      const data = await this.call("GET", path, { query: { ...query, pageNumber: page, pageSize: query.pageSize || 100 } });
      out.push(...(data.entities || []));
      if (!data.entities || !data.entities.length || !data.pageCount || page >= data.pageCount) break;
    }
    return out;
  }

  me() {
    return this.call("GET", "/api/v2/users/me", { query: { expand: "authorization" } });
  }

  async findTable(name) {
    const tables = await this.pages("/api/v2/flows/datatables", { name });
    return tables.find((t) => String(t.name).toLowerCase() === name.toLowerCase()) || null;
  }

  async rows(tableId) {
    return this.pages(`/api/v2/flows/datatables/${encodeURIComponent(tableId)}/rows`, { showbrief: "false" });
  }

  row(tableId, key) {
    return this.call("GET", `/api/v2/flows/datatables/${encodeURIComponent(tableId)}/rows/${encodeURIComponent(key)}`, {
      query: { showbrief: "false" },
      allow404: true,
    });
  }

  async upsertRow(tableId, key, row, exists) {
    const base = `/api/v2/flows/datatables/${encodeURIComponent(tableId)}/rows`;
    if (exists) return this.call("PUT", `${base}/${encodeURIComponent(key)}`, { body: { ...row, key } });
    try {
      return await this.call("POST", base, { body: { ...row, key } });
    } catch (exc) {
      if (exc.status === 409) return this.call("PUT", `${base}/${encodeURIComponent(key)}`, { body: { ...row, key } });
      throw exc;
    }
  }

  deleteRow(tableId, key) {
    return this.call("DELETE", `/api/v2/flows/datatables/${encodeURIComponent(tableId)}/rows/${encodeURIComponent(key)}`);
  }

  async searchQueues(text) {
    const data = await this.call("GET", "/api/v2/routing/queues", {
      query: { name: `*${text}*`, pageSize: 25, pageNumber: 1, sortOrder: "asc" },
    });
    return data.entities || [];
  }

  async queueByName(name) {
    const data = await this.call("GET", "/api/v2/routing/queues", { query: { name, pageSize: 25, pageNumber: 1 } });
    return (data.entities || []).find((q) => String(q.name).toLowerCase() === name.toLowerCase()) || null;
  }

  policies() {
    return this.pages("/api/v2/recording/mediaretentionpolicies", { pageSize: 100 });
  }

  /** The configuration-change signal: a callback on the system queue (as GenesysClient.create_callback). */
  callback(queueId) {
    return this.call("POST", "/api/v2/conversations/callbacks", {
      body: { queueId, callbackNumbers: ["+10000000000"], callbackUserName: "callexport configuration changed" },
    });
  }

  async recentConversations(hours = 24) {
    const end = new Date();
    const start = new Date(end.getTime() - hours * 3600 * 1000);
    const data = await this.call("POST", "/api/v2/analytics/conversations/details/query", {
      body: {
        interval: `${start.toISOString()}/${end.toISOString()}`,
        order: "desc",
        orderBy: "conversationStart",
        paging: { pageSize: 25, pageNumber: 1 },
      },
    });
    return data.conversations || [];
  }

  async recordings(conversationId) {
    const data = await this.call("GET", `/api/v2/conversations/${encodeURIComponent(conversationId)}/recordings`, {
      query: { formatId: "NONE" },
    });
    return Array.isArray(data) ? data : null;
  }

  conversation(conversationId) {
    return this.call("GET", `/api/v2/conversations/${encodeURIComponent(conversationId)}`);
  }
}

/** The configuration row(s) of one Data Table: read, and write with the concurrency check. */
export class ConfigStore {
  constructor(api, config) {
    this.api = api;
    this.tableName = config.dataTable;
    this.rowKey = config.dataTableRow;
    this.column = config.dataTableColumn;
    this.systemQueue = config.systemQueue;
    this.table = null;
  }

  async open() {
    this.table = await this.api.findTable(this.tableName);
    if (!this.table) throw new ApiError(404, `data table "${this.tableName}" not found in this organization`);
    return this.table;
  }

  /** {head, text} as stored now (head null: no configuration row yet). Throws LayoutError for damaged parts. */
  async read() {
    const rows = await this.api.rows(this.table.id);
    const values = {};
    for (const r of rows) if (typeof r[this.column] === "string") values[r.key] = r[this.column];
    this.keys = rows.map((r) => r.key);
    if (!Object.hasOwn(values, this.rowKey)) return { head: null, text: null };
    const head = values[this.rowKey];
    return { head, text: layout.read(this.rowKey, head, values) };
  }

  async currentHead() {
    const row = await this.api.row(this.table.id, this.rowKey);
    return row && typeof row[this.column] === "string" ? row[this.column] : null;
  }

  /**
   * Store `text` unless the row changed since `baselineHead` was read (then ConflictError, nothing written).
   * Returns the new head (the baseline of the next save).
   */
  async write(text, baselineHead, { force = false } = {}) {
    const head = await this.currentHead();
    if (!force && head !== baselineHead) {
      let current = null;
      try {
        current = (await this.read()).text;
      } catch {
        current = head;
      }
      throw new ConflictError(head, current);
    }
    const stored = layout.split(text, this.rowKey, layout.newGeneration());
    const rows = await this.api.rows(this.table.id);
    const keys = rows.map((r) => r.key);
    const limits = layout.limits();
    if (keys.length + stored.parts.length + (head === null ? 1 : 0) > limits.rowsPerTable) {
      throw new ApiError(400, `the data table would need more than ${limits.rowsPerTable} rows (the Genesys limit)`);
    }
    for (const [key, value] of stored.parts) await this.api.upsertRow(this.table.id, key, { [this.column]: value }, false);
    await this.api.upsertRow(this.table.id, this.rowKey, { [this.column]: stored.head }, head !== null);
    for (const key of layout.stalePartKeys(this.rowKey, keys, stored.manifest ? stored.manifest.generation : null)) {
      try {
        await this.api.deleteRow(this.table.id, key);
      } catch {
        /* a left-over part only costs a row; the next save removes it */
      }
    }
    return stored.head;
  }

  /** The system-queue signal; {ok, message}. */
  async signal() {
    const queue = await this.api.queueByName(this.systemQueue);
    if (!queue) return { ok: false, message: `system queue "${this.systemQueue}" not found: the service applies the change at its next reload` };
    await this.api.callback(queue.id);
    return { ok: true, message: "the service was notified" };
  }
}
