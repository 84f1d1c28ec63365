// Signing the Genesys Cloud user in (OAuth 2 in the browser) against the login host of their region.
//
// Region: Genesys Cloud opens a Client App with the URL configured on the integration, in which it
// replaces {{gcHostOrigin}} (e.g. https://apps.mypurecloud.ie), {{gcTargetEnv}} (e.g. prod-euw1) and
// {{gcLangTag}}. As Genesys' client-app-sdk and its samples do, the environment is the host origin's
// name without its "apps." prefix (mypurecloud.ie), the API host is "api." + environment and the login
// host "login." + environment (the JavaScript Platform SDK's setEnvironment does the same). Opened
// directly in a tab, `?environment=mypurecloud.ie` or config.json's "environment" says it. The query
// string is kept across the sign-in redirect in sessionStorage (the redirect URI has no query).
//
// Grants: authorization code with PKCE (default; S256 challenge, verifier in sessionStorage) or the
// implicit grant (config "grant": "implicit"). The token lives in sessionStorage only.
//
// Framed (inside Genesys Cloud), the login page is opened in a pop-up instead of the frame (login
// pages commonly refuse to be framed): the pop-up comes back to this app, hands the answer to the
// frame that opened it (postMessage, same origin only) and closes; the frame exchanges the code with
// the verifier it kept. When the browser blocks the pop-up, the frame itself goes to the login page.

import { sha256Hex } from "./engine/pystr.js";

const ENV_KEY = "callexport.env";
const TOKEN_KEY = "callexport.token";
const PENDING_KEY = "callexport.oauth";
const GENESYS_DOMAIN = /^(?:[a-z0-9-]+\.)*(?:mypurecloud\.(?:com|ie|de|jp|com\.au)|pure\.cloud|us-gov-pure\.cloud|inintca\.com)$/;

export class AuthError extends Error {}

function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function hexToBytes(hex) {
  const out = [];
  for (let i = 0; i < hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return out;
}

/** The environment (region) from the query string, the saved copy, or config.json. */
export function resolveEnvironment(config, search = window.location.search) {
  const params = new URLSearchParams(search);
  let saved = {};
  try {
    saved = JSON.parse(sessionStorage.getItem(ENV_KEY) || "{}");
  } catch {
    saved = {};
  }
  const pick = (...names) => {
    for (const name of names) if (params.get(name)) return params.get(name);
    return null;
  };
  const env = {
    gcHostOrigin: pick("gcHostOrigin") ?? saved.gcHostOrigin ?? null,
    gcTargetEnv: pick("gcTargetEnv") ?? saved.gcTargetEnv ?? null,
    langTag: pick("gcLangTag", "langTag") ?? saved.langTag ?? null,
    environment: pick("environment", "pcEnvironment") ?? saved.environment ?? null,
  };
  let domain = env.environment;
  if (!domain && env.gcHostOrigin) {
    let host;
    try {
      host = new URL(env.gcHostOrigin).hostname;
    } catch {
      throw new AuthError(`gcHostOrigin ${env.gcHostOrigin} is not a URL`);
    }
    domain = host.startsWith("apps.") ? host.slice(5) : host;
  }
  domain = (domain || config.environment || "mypurecloud.com").trim().replace(/^\./, "").replace(/\/$/, "");
  env.environment = domain;
  sessionStorage.setItem(ENV_KEY, JSON.stringify(env));
  if (config.apiBaseUrl) {
    // a simulator or a proxy named by config.json (run.py admin serve --api-url)
    return { ...env, embedded: Boolean(env.gcHostOrigin), apiBase: config.apiBaseUrl, loginBase: config.loginBaseUrl || config.apiBaseUrl };
  }
  if (!GENESYS_DOMAIN.test(domain)) {
    throw new AuthError(`"${domain}" is not a Genesys Cloud region (expected e.g. mypurecloud.com, mypurecloud.ie, euw2.pure.cloud)`);
  }
  return { ...env, embedded: Boolean(env.gcHostOrigin), apiBase: `https://api.${domain}`, loginBase: `https://login.${domain}` };
}

export function redirectUri() {
  return window.location.origin + window.location.pathname;
}

export function currentToken() {
  try {
    const token = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
    if (token && token.accessToken && token.expiresAt > Date.now()) return token;
  } catch {
    /* no token */
  }
  return null;
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

function keepToken(accessToken, expiresIn) {
  const seconds = Number(expiresIn || 0);
  const token = { accessToken, expiresAt: Date.now() + (seconds - Math.min(5, seconds * 0.1)) * 1000 };
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(token));
  return token;
}

export function isFramed() {
  try {
    return window.self !== window.top;
  } catch {
    return true;
  }
}

/** True when this page is the sign-in pop-up coming back: it hands the answer to its opener and closes. */
export function handOverToOpener() {
  const answer = window.location.search + window.location.hash;
  if (!/[?&#](code|access_token|error)=/.test(answer) || !window.opener || window.opener === window) return false;
  try {
    if (!window.opener.callexportAdmin) return false; // not opened by this app
  } catch {
    return false; // another origin
  }
  window.opener.postMessage({ type: "callexport-oauth", search: window.location.search, hash: window.location.hash }, window.location.origin);
  window.close();
  return true;
}

/** Leave for the login page, or open it in a pop-up when framed (the caller saves unsaved work first). */
export function startSignIn(config, env, { onAnswer = null } = {}) {
  if (!config.clientId) throw new AuthError("config.json names no OAuth clientId: see docs/admin.md (Register the app)");
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const params = { client_id: config.clientId, redirect_uri: redirectUri(), state };
  if ((config.grant || "pkce") === "implicit") {
    params.response_type = "token";
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, grant: "implicit" }));
  } else {
    const verifier = b64url(crypto.getRandomValues(new Uint8Array(64)));
    const challenge = b64url(hexToBytes(sha256Hex(Array.from(new TextEncoder().encode(verifier)))));
    Object.assign(params, { response_type: "code", code_challenge: challenge, code_challenge_method: "S256" });
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, grant: "pkce", verifier }));
  }
  const url = `${env.loginBase}/oauth/authorize?${new URLSearchParams(params)}`;
  if (isFramed() && onAnswer) {
    const popup = window.open(url, "callexport-sign-in", "popup,width=520,height=720");
    if (popup) {
      const listener = (event) => {
        if (event.origin !== window.location.origin || !event.data || event.data.type !== "callexport-oauth") return;
        window.removeEventListener("message", listener);
        onAnswer(event.data.search, event.data.hash);
      };
      window.addEventListener("message", listener);
      return;
    }
  }
  window.location.assign(url);
}

/** Complete a sign-in the login page redirected back with; null when this load is not a redirect. */
export async function finishSignIn(config, env, search = window.location.search, hash = window.location.hash) {
  const query = new URLSearchParams(search);
  const fragment = new URLSearchParams(hash.slice(1));
  const source = query.get("code") || query.get("error") ? query : fragment.get("access_token") || fragment.get("error") ? fragment : null;
  if (source === null) return null;
  let pending = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
  } catch {
    pending = null;
  }
  sessionStorage.removeItem(PENDING_KEY);
  if (search === window.location.search) window.history.replaceState(null, "", window.location.pathname);
  if (source.get("error")) {
    throw new AuthError(`sign-in was not completed: ${source.get("error_description") || source.get("error")}`);
  }
  if (!pending || pending.state !== source.get("state")) throw new AuthError("sign-in answer does not match a sign-in this page started (state); sign in again");
  if (source.get("access_token")) return keepToken(source.get("access_token"), source.get("expires_in"));
  const response = await fetch(`${env.loginBase}/oauth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: source.get("code"),
      client_id: config.clientId,
      code_verifier: pending.verifier,
      redirect_uri: redirectUri(),
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new AuthError(`the login host refused the sign-in code: ${body.error_description || body.error || response.status}`);
  return keepToken(body.access_token, body.expires_in);
}
