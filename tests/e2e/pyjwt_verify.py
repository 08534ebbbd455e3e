"""Verifies a vimcar access token as another service would: PyJWT's PyJWKClient fetches the JWKS, picks the key by
the token's kid, and checks the signature, exp, aud and iss. The README shows this script; tests/e2e runs it.

    python pyjwt_verify.py JWKS_URL TOKEN [ISSUER]
"""

import json
import sys

import jwt  # PyJWT[crypto]

jwks_url, token = sys.argv[1], sys.argv[2]
issuer = sys.argv[3] if len(sys.argv) > 3 else "vimcar"

# Caches the JWKS and fetches it again for a kid it does not know yet (a rotation).
jwks = jwt.PyJWKClient(jwks_url)
signing_key = jwks.get_signing_key_from_jwt(token)
claims = jwt.decode(
    token,
    signing_key.key,
    algorithms=["ES256"],  # never take the algorithm from the token
    audience="vimcar-api",
    issuer=issuer,
    options={"require": ["exp", "iat", "sub", "aud", "iss"]},
)
print(json.dumps(claims))
