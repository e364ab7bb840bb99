"""An SMTP relay as a shop's provider runs one, for tests: TLS (STARTTLS required, or TLS from
the first byte) and a login required before any mail is accepted; mail goes to a Maildir.

Arguments: PORT MAILDIR MODE(starttls|tls) CERT KEY USERNAME PASSWORD.
"""

import asyncio
import ssl
import sys

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

port, maildir, mode, cert, key, username, password = sys.argv[1:8]
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
implicit = mode == "tls"


def authenticate(server, session, envelope, mechanism, data):
    good = isinstance(data, LoginPassword) and data.login == username.encode() and data.password == password.encode()
    # Not "handled": aiosmtpd itself answers 535 to a refused login.
    return AuthResult(success=good, handled=False)


async def main():
    loop = asyncio.get_running_loop()

    def protocol():
        # With implicit TLS the socket is already encrypted: aiosmtpd cannot see it, so its own
        # "no login before TLS" rule is lifted; with STARTTLS it holds.
        return SMTP(
            Mailbox(maildir),
            tls_context=None if implicit else context,
            require_starttls=not implicit,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=not implicit,
            loop=loop,
        )

    server = await loop.create_server(protocol, "127.0.0.1", int(port), ssl=context if implicit else None)
    async with server:
        await server.serve_forever()


asyncio.run(main())
