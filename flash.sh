#!/usr/bin/env bash
# Puts the firmware on a board: builds dist/firmware.js, uploads it as Storage `.bootcde` and
# provisions Storage `iot.json` from a local credentials file, with the espruino CLI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ESPRUINO="$ROOT/node_modules/.bin/espruino"
TSX="$ROOT/node_modules/.bin/tsx"

PORT=""
BAUD=115200
BOARD="$ROOT/platform/espruino/esp32-board.json"
CREDS="$ROOT/credentials.json"
DRY_RUN=""
SKIP_BUILD=0
DIST=""
UPDATE_KEY=""
CONSOLE_PW_FILE=""

usage() {
  cat <<EOF
Usage: flash.sh --port PORT [options]
       flash.sh --dry-run FILE [options]

Builds dist/firmware.js, uploads it as .bootcde and writes iot.json (from the credentials file)
to the board's Storage, then restarts the board into the new code.

  --port PORT          serial device (/dev/ttyUSB0) or tcp://host[:port] for the telnet console
  --baud N             serial baud rate (default 115200)
  --board NAME|FILE    board name or board JSON for the espruino CLI
                       (default platform/espruino/esp32-board.json, works offline)
  --credentials FILE   device credentials, iot.json keys (default credentials.json; see
                       credentials.example.json)
  --dry-run FILE.js    write what would be sent to FILE.js instead of sending it (the file holds
                       the device secret: it is created readable by you only)
  --no-build           use the existing dist/firmware.js
  --dist DIR           use the bundles in DIR (firmware.js, boot0.js) instead of dist/, as they
                       are (no build)
  --console-password-file FILE
                       the password the board's console is locked with now (iot.json key
                       console.password); default: console.password of the credentials file.
                       flash.sh sends it before the upload when the console asks for it.
  --update-key FILE    OTA layout (docs/ota-signing.md): the boot stage dist/boot0.js as .boot0,
                       the firmware in slot fw.a, FILE (the product's update PUBLIC key, the .pub
                       file of npm run release -- --gen-key) as ota.pub; erases .bootcde, an old
                       HMAC ota.key and any OTA state (fw.b, boot record, marks, counter).
                       Without it: plain .bootcde, no OTA.
  -h, --help           this text
EOF
}

die() {
  echo "flash.sh: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="${2:-}"; [ -n "$PORT" ] || die "--port needs a serial device or tcp://host"; shift 2 ;;
    --baud) BAUD="${2:-}"; [[ "$BAUD" =~ ^[0-9]+$ ]] || die "--baud needs a number"; shift 2 ;;
    --board) BOARD="${2:-}"; [ -n "$BOARD" ] || die "--board needs a name or a JSON file"; shift 2 ;;
    --credentials) CREDS="${2:-}"; [ -n "$CREDS" ] || die "--credentials needs a file"; shift 2 ;;
    --dry-run) DRY_RUN="${2:-}"; [ -n "$DRY_RUN" ] || die "--dry-run needs an output file"; shift 2 ;;
    --no-build) SKIP_BUILD=1; shift ;;
    --dist) DIST="${2:-}"; [ -d "$DIST" ] || die "--dist needs a folder with firmware.js"; SKIP_BUILD=1; shift 2 ;;
    --console-password-file) CONSOLE_PW_FILE="${2:-}"; [ -f "$CONSOLE_PW_FILE" ] || die "--console-password-file needs an existing file"; shift 2 ;;
    --update-key) UPDATE_KEY="${2:-}"; [ -f "$UPDATE_KEY" ] || die "--update-key needs an existing public key file (the .pub of npm run release -- --gen-key)"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

[ -n "$PORT" ] || [ -n "$DRY_RUN" ] || { usage >&2; die "give --port (or --dry-run FILE)"; }
# The espruino CLI only accepts -o with a .js name.
[ -z "$DRY_RUN" ] || [[ "$DRY_RUN" == *.js ]] || die "--dry-run file must end in .js"
[ -f "$CREDS" ] || die "credentials file not found: $CREDS (copy credentials.example.json to credentials.json and fill it in)"
[ -x "$ESPRUINO" ] || die "espruino CLI missing: run npm install"

umask 077
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Check the credentials with the firmware's own rules (firmware/config.ts) and write the iot.json
# to provision. Only the field name of an error is printed, never a value.
METHOD="$(cd "$ROOT" && CREDS="$CREDS" OUT="$WORK/iot.json" "$TSX" -e '
import { parseConfig, configText } from "./firmware/config";
import * as fs from "node:fs";
let text: string;
// Bytes as the board reads them (its strings are byte strings): UTF-8 text stays UTF-8 bytes.
try { text = fs.readFileSync(process.env.CREDS as string, "latin1"); } catch (e) { console.error("cannot read credentials: " + (e as Error).message); process.exit(1); }
const r = parseConfig(text);
if (!r.ok) { console.error("credentials " + r.error); process.exit(1); }
if (r.config.deviceSecret.indexOf("REPLACE") >= 0 || r.config.productKey.indexOf("REPLACE") >= 0) { console.error("credentials still hold the placeholders of credentials.example.json"); process.exit(1); }
for (const w of r.warnings) console.error("warning: credentials " + w);
// Strict JSON (bare keys quoted, \u escapes as UTF-8 bytes), written back byte for byte.
fs.writeFileSync(process.env.OUT as string, JSON.stringify(JSON.parse(configText(text))), "latin1");
if (r.config.console) fs.writeFileSync(process.env.OUT + ".pw", r.config.console.password);
console.log(r.config.signMethod);
')" || die "refusing to flash: fix $CREDS"

if [ "$SKIP_BUILD" = 0 ]; then
  echo "flash.sh: building with sign method $METHOD"
  (cd "$ROOT" && npm run --silent build -- --sign-methods "$METHOD" >"$WORK/build.log" 2>&1) || { cat "$WORK/build.log" >&2; die "build failed"; }
fi
FIRMWARE="${DIST:-$ROOT/dist}/firmware.js"
[ -f "$FIRMWARE" ] || die "no $FIRMWARE: build first"

# --storage .bootcde:- stores the uploaded code in .bootcde (and load()s it afterwards);
# --storage iot.json:FILE prepends a Storage.write of the config file.
ARGS=(--board "$BOARD" --storage .bootcde:- --storage "iot.json:$WORK/iot.json")
UPLOAD="$FIRMWARE"
if [ -n "$UPDATE_KEY" ]; then
  # Only a verify key goes on a device: an HSS public key with one level (RFC 8554: u32 L = 1,
  # then the LMS public key), 60 bytes as hex. A private key state (JSON) or an old HMAC key is refused.
  PUB="$(tr -d '[:space:]' <"$UPDATE_KEY")"
  [[ "$PUB" =~ ^00000001[0-9a-f]{112}$ ]] || die "$UPDATE_KEY is not an update public key (120 hex characters, the .pub file of npm run release -- --gen-key); never flash the private key"
  BOOT0="${DIST:-$ROOT/dist}/boot0.js"
  [ -f "$BOOT0" ] || die "no $BOOT0: build first"
  # The files go first (Storage writes); the code sent to RAM then drops what an older install
  # left (a plain .bootcde would run after the boot stage; an old boot record would pick fw.b)
  # and restarts through the boot stage.
  printf '%s' "$PUB" >"$WORK/ota.pub"
  printf '%s\n' 'var s=require("Storage");[".bootcde","fw.b","ota.m0","ota.m1","ota.ok","ota.rb","ota.inf","ota.up","ota.ctr","ota.nc","ota.key"].forEach(function(n){s.erase(n);});load();' >"$WORK/ota-switch.js"
  ARGS=(--board "$BOARD" --storage ".boot0:$BOOT0" --storage "fw.a:$FIRMWARE" --storage "ota.pub:$WORK/ota.pub" --storage "iot.json:$WORK/iot.json")
  UPLOAD="$WORK/ota-switch.js"
fi
if [ -n "$DRY_RUN" ]; then
  ARGS+=(-n -o "$DRY_RUN")
  echo "flash.sh: dry run, writing the upload to $DRY_RUN"
else
  # --no-ble: Bluetooth is never the transport here, and probing it needs a D-Bus system bus
  ARGS+=(-p "$PORT" -b "$BAUD" --no-ble)
  echo "flash.sh: uploading to $PORT at $BAUD baud"
  # A console locked by the firmware (iot.json console.password) takes the password line first.
  PW_FILE="$WORK/iot.json.pw"
  [ -z "$CONSOLE_PW_FILE" ] || PW_FILE="$CONSOLE_PW_FILE"
  PW=""
  [ ! -f "$PW_FILE" ] || PW="$(tr -d '\r\n' <"$PW_FILE")"
  (cd "$ROOT" && CONSOLE_PASSWORD="$PW" "$TSX" build/unlock-console.ts "$PORT" "$BAUD") || die "cannot use the console of $PORT (locked: give --console-password-file)"
fi
"$ESPRUINO" "${ARGS[@]}" "$UPLOAD"
[ -z "$DRY_RUN" ] || [ -s "$DRY_RUN" ] || die "the espruino CLI wrote nothing to $DRY_RUN"
echo "flash.sh: done ($(wc -c <"$FIRMWARE") bytes of firmware, iot.json for $(cd "$ROOT" && CREDS="$WORK/iot.json" node -e 'const c=JSON.parse(require("fs").readFileSync(process.env.CREDS,"utf8"));console.log(c.productKey+"/"+c.deviceName)'))"
