"""The simulator's login host pages: the sign-in form and the error page (plain HTML, no assets)."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping

logger = logging.getLogger(__name__)

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f2f4f7;margin:0}
main{max-width:380px;margin:10vh auto;background:#fff;border-radius:8px;padding:32px;
box-shadow:0 2px 12px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin:0 0 4px}p.sub{color:#555;margin:0 0 20px;font-size:.9rem}
label{display:block;font-size:.85rem;margin:12px 0 4px;color:#333}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:9px;
border:1px solid #bbb;border-radius:4px;font-size:1rem}
.actions{display:flex;gap:8px;margin-top:20px}
button{flex:1;padding:10px;border-radius:4px;border:1px solid #ff4f1f;font-size:1rem;cursor:pointer}
button.primary{background:#ff4f1f;color:#fff}button.secondary{background:#fff;color:#ff4f1f}
.error{background:#fdecea;color:#8a1c0f;border-radius:4px;padding:8px 10px;font-size:.9rem}
"""


def _page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    ).encode()


def login_form(params: Mapping[str, str], client_name: str, org_name: str, error: str = "") -> bytes:
    """The sign-in form; `params` (the authorize request) travel back as hidden fields."""
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
        for k, v in params.items()
        if k not in ("username", "password", "action")
    )
    err = f"<p class='error' role='alert' id='login-error'>{html.escape(error)}</p>" if error else ""
    body = (
        "<h1>Sign in to Genesys Cloud</h1>"
        f"<p class='sub'>{html.escape(org_name)} &middot; <span id='client-name'>"
        f"{html.escape(client_name)}</span> wants to use your account</p>{err}"
        "<form method='post' action='/oauth/authorize' id='login-form'>"
        f"{hidden}"
        "<label for='username'>Email</label>"
        "<input type='text' id='username' name='username' autocomplete='username' required autofocus>"
        "<label for='password'>Password</label>"
        "<input type='password' id='password' name='password' autocomplete='current-password' required>"
        "<div class='actions'>"
        "<button type='submit' class='secondary' name='action' value='cancel' id='cancel' formnovalidate>"
        "Cancel</button>"
        "<button type='submit' class='primary' name='action' value='login' id='log-in'>Log In</button>"
        "</div></form>"
    )
    return _page("Genesys Cloud sign in", body)


def error_page(error: str, description: str) -> bytes:
    """Shown instead of redirecting when the client or redirect URI cannot be trusted (RFC 6749 4.1.2.1)."""
    body = (
        "<h1>Sign-in error</h1>"
        f"<p class='error' role='alert' id='oauth-error' data-error='{html.escape(error)}'>"
        f"{html.escape(error)}: {html.escape(description)}</p>"
    )
    return _page("Genesys Cloud sign-in error", body)


def message_page(title: str, text: str) -> bytes:
    return _page(title, f"<h1>{html.escape(title)}</h1><p class='sub'>{html.escape(text)}</p>")
