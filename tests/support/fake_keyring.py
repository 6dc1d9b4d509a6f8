"""A desktop keyring that is locked: a Secret Service on a private D-Bus that lists the
browser's item but will not hand out its secret, as GNOME Keyring does before the user unlocks it.

It speaks the real protocol over the real bus (jeepney, which browser_cookie3 itself uses),
answering the four calls a client makes: SearchItems (the item is in the locked list), Unlock
(a prompt the user never answers), OpenSession, and GetSecrets (nothing, since it is locked).
"""

from __future__ import annotations

import threading
from types import TracebackType

from jeepney import MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

ITEM = "/org/freedesktop/secrets/collection/login/1"


class LockedKeyring:
    """``with LockedKeyring(bus_address):`` a locked Secret Service on that bus."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.calls: list[str] = []
        self._connection: DBusConnection | None = None
        self._thread = threading.Thread(target=self._serve, name="locked-keyring", daemon=True)
        self._stopping = False

    def __enter__(self) -> LockedKeyring:
        self._connection = open_dbus_connection(bus=self.address)
        reply = self._connection.send_and_get_reply(
            message_bus.RequestName("org.freedesktop.secrets")
        )
        assert reply.body[0] == 1, "the name must be ours"  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        if self._connection is not None:
            self._connection.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        assert self._connection is not None
        while not self._stopping:
            try:
                message = self._connection.receive(timeout=0.2)
            except TimeoutError:
                continue
            except (OSError, ValueError):
                return  # closed
            if message.header.message_type != MessageType.method_call:
                continue
            member = message.header.fields.get(3, "")  # HeaderFields.member
            self.calls.append(str(member))
            if member == "SearchItems":
                reply = new_method_return(message, "aoao", ([], [ITEM]))
            elif member == "Unlock":
                reply = new_method_return(message, "aoo", ([], "/org/freedesktop/secrets/prompt/1"))
            elif member == "OpenSession":
                reply = new_method_return(
                    message, "vo", (("s", ""), "/org/freedesktop/secrets/session/1")
                )
            elif member == "GetSecrets":
                reply = new_method_return(message, "a{o(oayays)}", ({},))
            else:
                reply = new_error(message, "org.freedesktop.DBus.Error.UnknownMethod")
            self._connection.send(reply)
