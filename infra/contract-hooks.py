"""schemathesis hooks for infra/contract-test.

`cargo lambda watch` answers a JSON request whose body is not UTF-8 with a 500 of its own, before any function
runs (API Gateway passes such bodies on). schemathesis's syntax fuzzing sends random bytes as JSON bodies, so those
bytes are made UTF-8 here, lossily: the body stays random non-JSON, and reaches the function. The functions' answer
to bodies that are not UTF-8 at all is tested in-process (tests/api/robustness.rs) and by `make fuzz`.

`cargo lambda watch` 1.9 also answers about one request in a thousand with a 500 of its own (text/plain, type
`https://httpstatuses.com/500`), whichever function and input: a replay of the same requests in the same order does
not fail again, and 3,500 requests of the user flow without fuzzing did not fail at all (BENCHMARKS.md). Such an
answer is sent again, up to three times, and said on standard error. The functions' own 500s are problem+json with a
request id, never retried, and fail the run as before.

Sessions: a refresh token works once, and a logout ends sessions. So that the positive cases of `POST /auth/refresh`
and `POST /auth/logout` reach their 200 and 204 (a generated token is never one the API issued), every schema-valid
refresh token in their bodies is swapped for a fresh session's, and logout's `Authorization` is always a fresh
session's access token. Each of those sessions belongs to a user of its own, registered here (a shared one could be
locked by the fuzzing's failed logins under its listed name): the harness's user keeps the one session whose access
token (VIMCAR_TOKEN) authorises every other operation (`GET /api/users`) for the whole run, which no logout, reuse or
eviction (25 sessions a user) can end.

The account: `POST /api/users/me/password` ends every session of its caller, and `DELETE /api/users/me` deletes the
caller. So each of their requests, like a logout, is sent with a fresh session of a fresh user, and a schema-valid body
gets that user's password in `current_password` (or `password`), so that the positive cases reach their 200 and 204
(a new password schemathesis makes up is mostly too weak: a 422). `GET /api/users/{id}` gets the harness user's id
in every other request, so that it answers 200 as well as 404.
"""

import os
import re
import sys
import threading

import requests
import schemathesis
from schemathesis.core.transport import Response

BASE_URL = os.environ["VIMCAR_BASE_URL"].rstrip("/")
SESSIONS_USER = {"username": "contract-sessions", "password": "contract sessions need a long passphrase too"}
# As openapi.yaml's RefreshToken: what schemathesis generates for a positive case.
REFRESH_TOKEN = re.compile(r"^vrt1_[A-Za-z0-9_-]{96}$")

# Operations whose requests each get a fresh session of a fresh user: each may end it, or delete its user.
FRESH_SESSION_OPERATIONS = ["logOut", "changePassword", "deleteMe"]

_sessions = threading.Lock()
_users = 0
# The password of each fresh session's user, by its access token.
_passwords = {}
_harness_id = None
_lookups = 0


def _fresh_session():
    """Registers a user of its own and logs it in: a new session's access and refresh tokens. One user per session,
    so that nothing the fuzzing does (failed logins under a listed name lock that account) reaches these logins."""
    global _users
    with _sessions:
        _users += 1
        user = dict(SESSIONS_USER, username=f"{SESSIONS_USER['username']}-{_users}")
    registration = dict(user, email=f"{user['username']}@example.com")
    answer = requests.post(f"{BASE_URL}/api/users", json=registration, timeout=60)
    if answer.status_code != 201:
        raise RuntimeError(f"registering {user['username']} answered {answer.status_code}: {answer.text}")
    answer = requests.post(f"{BASE_URL}/auth", json=user, timeout=60)
    if answer.status_code != 200:
        raise RuntimeError(f"logging {user['username']} in answered {answer.status_code}: {answer.text}")
    tokens = answer.json()
    with _sessions:
        _passwords[tokens["access_token"]] = user["password"]
    return tokens


def _harness_user_id():
    """The id of the harness's user (whose token VIMCAR_TOKEN is), asked once."""
    global _harness_id
    if _harness_id is None:
        answer = requests.get(f"{BASE_URL}/api/users/me", headers={"Authorization": f"JWT {os.environ['VIMCAR_TOKEN']}"},
                              timeout=60)
        if answer.status_code != 200:
            raise RuntimeError(f"GET /api/users/me answered {answer.status_code}: {answer.text}")
        _harness_id = answer.json()["id"]
    return _harness_id


def _password_of(case):
    """The password of the fresh user whose access token `case` carries, if it carries one."""
    authorization = (case.headers or {}).get("Authorization", "")
    return _passwords.get(authorization.removeprefix("JWT "))


def _is_string(value, minimum=0, maximum=None):
    return isinstance(value, str) and len(value) >= minimum and (maximum is None or len(value) <= maximum)


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8", errors="replace").encode("utf-8")
    return body


EMULATOR_ERROR = b'"type":"https://httpstatuses.com/500"'
RESENDS = 3


def _emulator_error(response):
    content_type = (response.headers.get("content-type") or [""])[0]
    return response.status_code == 500 and content_type.startswith("text/plain") and EMULATOR_ERROR in response.content


@schemathesis.hook
def after_call(context, case, response):
    for _ in range(RESENDS):
        if not _emulator_error(response):
            return
        print(f"contract-hooks: cargo lambda watch answered {case.method} {case.path} with its own 500; sending it again",
              file=sys.stderr)
        with requests.Session() as session:
            fresh = Response.from_requests(session.send(response.request, timeout=30), verify=True)
        for slot in ("status_code", "headers", "content", "content_size", "elapsed", "message", "http_version",
                     "encoding", "stream_cut_short", "_deserialized", "_encoded_body", "_override"):
            setattr(response, slot, getattr(fresh, slot))


@schemathesis.hook
def before_call(context, case, **kwargs):
    global _lookups
    operation = (case.operation.method.upper(), case.operation.path)
    body = case.body
    if operation[1] in ("/auth/refresh", "/auth/logout"):
        if isinstance(body, dict) and isinstance(body.get("refresh_token"), str):
            if REFRESH_TOKEN.match(body["refresh_token"]):
                case.body = dict(body, refresh_token=_fresh_session()["refresh_token"])
    elif operation == ("POST", "/api/users/me/password"):
        # Schema-valid as openapi.yaml's PasswordChange: exactly the two fields, strings, the new one 12-128 long.
        password = _password_of(case)
        if (password and isinstance(body, dict) and set(body) == {"current_password", "new_password"}
                and _is_string(body["current_password"]) and _is_string(body["new_password"], 12, 128)
                and body["new_password"] != password):
            case.body = dict(body, current_password=password)
    elif operation == ("DELETE", "/api/users/me"):
        password = _password_of(case)
        if password and isinstance(body, dict) and set(body) == {"password"} and _is_string(body["password"]):
            case.body = dict(body, password=password)
    elif operation == ("GET", "/api/users/{id}"):
        with _sessions:
            _lookups += 1
            mine = _lookups % 2 == 0
        if mine and isinstance(case.path_parameters, dict) and "id" in case.path_parameters:
            case.path_parameters = dict(case.path_parameters, id=_harness_user_id())


@schemathesis.auth().skip_for(operation_id=FRESH_SESSION_OPERATIONS)
class HarnessToken:
    """The harness user's access token, for every operation but those that could end its session or delete it."""

    def get(self, case, context):
        return os.environ["VIMCAR_TOKEN"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"JWT {data}"


@schemathesis.auth(refresh_interval=None).apply_to(operation_id=FRESH_SESSION_OPERATIONS)
class FreshSessionToken:
    """A new session's access token (of a new user) for every logout, password change and account deletion: each one
    may end the session (or all of the user's), or delete the user."""

    def get(self, case, context):
        return _fresh_session()["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"JWT {data}"
