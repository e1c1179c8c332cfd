#!/usr/bin/env bash
# Make sure the system packages named as arguments are there, installing the missing ones with
# apt-get when running as root; otherwise fail with one line naming them. Idempotent: with all
# present it installs nothing and says nothing. Known names:
#   postgresql    a PostgreSQL server to start (pg_ctlcluster), unless one already answers on
#                 127.0.0.1:5432, and its client (pg_isready)
#   redis-server  redis-server and redis-cli on the PATH (tests start a Redis of their own)
#   npm           npm (Stoplight Prism and Twilio's OpenAPI description come from the npm registry)
set -euo pipefail

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
has() { command -v "$1" >/dev/null 2>&1; }

missing=()
for need in "$@"; do
	case "$need" in
	postgresql)
		if ! answers 5432 && ! has pg_ctlcluster; then missing+=(postgresql); fi
		if ! has pg_isready; then missing+=(postgresql-client); fi
		;;
	redis-server)
		if ! has redis-server || ! has redis-cli; then missing+=(redis-server); fi
		;;
	npm)
		if ! has npm; then missing+=(npm); fi
		;;
	*)
		echo "ensure-packages.sh: unknown package $need" >&2
		exit 2
		;;
	esac
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $EUID -ne 0 ]] || ! has apt-get; then
	echo "missing: ${missing[*]}; install them (Debian or Ubuntu: sudo apt-get install ${missing[*]}), or run make as root on a system with apt-get to have them installed" >&2
	exit 1
fi

echo "installing ${missing[*]} with apt-get"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# A cluster installed just now asks TCP clients for a password, and the tests connect as user
# postgres without one (DATABASE_URL postgres://postgres@127.0.0.1:5432/…): let that one user in
# from this machine only, as a development machine does. A cluster that was already here is the
# owner's to configure.
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
	version=$(ls /etc/postgresql | head -n 1)
	hba=/etc/postgresql/$version/main/pg_hba.conf
	if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
		{
			echo "# make test (scripts/ensure-packages.sh): the tests' user, from this machine only"
			echo "host all postgres 127.0.0.1/32 trust"
			cat "$hba"
		} >"$hba.new"
		chown --reference="$hba" "$hba.new" && chmod --reference="$hba" "$hba.new" && mv "$hba.new" "$hba"
		pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
	fi
fi
