#!/usr/bin/env python3
"""A local SMTP server for the WelcomeEmail example and its test, on aiosmtpd.

    python3 smtp_sink.py --mailbox FILE --port-file FILE [--delay SECONDS] [--stop-on-stdin-eof]

It listens on 127.0.0.1 on a free port, which it writes to --port-file once it accepts connections, and takes
every mail: each one is appended to --mailbox as one JSON object per line (envelope sender and recipients,
Message-ID, To, Subject, the whole message) and summed up on stdout, before the 250 reply. --delay holds
that reply back, as a slow server would: a client killed meanwhile leaves a mail delivered but unacknowledged.
It stops on SIGTERM or SIGINT, and with --stop-on-stdin-eof also when its standard input closes (when the
process that started it with a pipe there is gone).
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Mailbox:
    """The aiosmtpd handler: appends each mail to the mailbox file."""

    def __init__(self, path, delay):
        self.path = path
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        entry = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": str(message["Message-ID"] or ""),
            "to": str(message["To"] or ""),
            "subject": str(message["Subject"] or ""),
            "message": envelope.content.decode("utf-8", errors="replace"),
        }
        with open(self.path, "a", encoding="utf-8") as mailbox:
            mailbox.write(json.dumps(entry) + "\n")
        print(f"RECEIVED {' '.join(envelope.rcpt_tos)} {entry['message_id']}", flush=True)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


async def serve(arguments):
    loop = asyncio.get_running_loop()
    handler = Mailbox(arguments.mailbox, arguments.delay)
    server = await loop.create_server(lambda: SMTP(handler, hostname="smtp-sink.localhost"), host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    # Written whole, then renamed, so that a reader never sees a partial port number.
    with open(arguments.port_file + ".tmp", "w") as port_file:
        port_file.write(f"{port}\n")
    os.replace(arguments.port_file + ".tmp", arguments.port_file)
    print(f"SMTP server listening on 127.0.0.1:{port}", flush=True)

    stopped = asyncio.Event()
    # A parent may have started this process with signals blocked (it inherits the spawning thread's mask).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopped.set)
    if arguments.stop_on_stdin_eof:
        def read_stdin():
            if not os.read(sys.stdin.fileno(), 4096):
                stopped.set()
        loop.add_reader(sys.stdin.fileno(), read_stdin)
    await stopped.wait()
    server.close()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser(description="A local SMTP server that appends every mail it receives to a file.")
    parser.add_argument("--mailbox", required=True, help="the file that receives one JSON line per mail")
    parser.add_argument("--port-file", required=True, help="where to write the port once listening")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before acknowledging a mail")
    parser.add_argument("--stop-on-stdin-eof", action="store_true", help="stop when standard input closes")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
