#!/bin/sh
# The trivial hook both credhook and the baseline run in scripts/bench.sh.
[ "$1" = create ] && printf 'id=bench-1\nusername=bench-user\npassword=bench-password-1234\n' > "$CREDHOOK_OUTPUT"
exit 0
