#!/usr/bin/env bash
# The WelcomeEmail example end to end: installs what is missing (aiosmtpd among it), starts a local SMTP
# server on 127.0.0.1 (smtp_sink.py), builds and runs the example with five sign-ups until each user has
# been welcomed, shows the mails the server received, and stops the server.
#
#   bash Examples/WelcomeEmail/run.sh [DATA_DIR]
#
# Without DATA_DIR the database lives in a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/install-deps.sh
swift build --product WelcomeEmail
example="$(swift build --show-bin-path)/WelcomeEmail"

work=$(mktemp -d -t eddy-welcome-XXXXXX)
data_dir="${1:-$work/data}"
python3 Examples/WelcomeEmail/smtp_sink.py --mailbox "$work/mailbox.jsonl" --port-file "$work/port" &
sink=$!
trap 'kill "$sink" 2>/dev/null || true; wait "$sink" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 300); do
    [ -s "$work/port" ] && break
    kill -0 "$sink" 2>/dev/null || { echo "The SMTP server did not start" >&2; exit 1; }
    sleep 0.1
done
[ -s "$work/port" ] || { echo "The SMTP server did not start within 30 seconds" >&2; exit 1; }

"$example" "$data_dir" --smtp-port "$(cat "$work/port")" --signups 5 --until-done

echo
if [ ! -s "$work/mailbox.jsonl" ]; then
    echo "No mail: every user in $data_dir had been welcomed already."
    exit 0
fi
echo "Mails received by the SMTP server:"
python3 - "$work/mailbox.jsonl" <<'EOF'
import json
import sys

for line in open(sys.argv[1], encoding="utf-8"):
    mail = json.loads(line)
    print(f"----- envelope: from {mail['mail_from']} to {', '.join(mail['rcpt_tos'])}")
    print(mail["message"].replace("\r\n", "\n").rstrip("\n"))
EOF
