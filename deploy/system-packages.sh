#!/usr/bin/env bash
# Debian packages Louzu needs beyond Python: Noto Sans CJK for Simplified Chinese in printed
# rosters, poppler-utils (pdftoppm, pdftotext) and zbar-tools (zbarimg) with which the tests read the
# PDFs back and scan their QR codes, and
# Chromium, the real browser the console tests drive (Playwright, executable /usr/bin/chromium).
# Installs only what is missing; does nothing when everything is present.
set -euo pipefail
need=()
fc-list 2>/dev/null | grep -q "Noto Sans CJK SC" || need+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
# without HarfBuzz's subsetter WeasyPrint embeds CJK fonts the slow way (~25 s a roster, not ~1.5 s)
dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || need+=(libharfbuzz-subset0)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# zbarimg: the tests scan the QR code printed on a roster
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "louzu: please install: ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
