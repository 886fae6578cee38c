#!/usr/bin/python3
"""bench/change.py -- what one change costs through Tandem's change path (issue 9 item 1), measured on the
library itself (bench/change_cost.c, compiled here against build/libtandem.a):

- churn: a zone of --records records takes --changes one-record changes through change/change.c with the real
  store: per change the next version made and the journal entry committed (fsync included), the
  compactions, and the store's size every tenth of the way (it must level off, not grow with the changes);
- versions: what a new version holds of its own while the old one is still alive (a grace period);
- signed: an NSEC3 zone of --signed names, one name added with its NSEC3 (a signer's IXFR): the next version
  carried through the change against the same version built whole (issue 7).

The time from a change on a primary to the secondary serving it, Tandem beside Knot, is bench/xfr.py's
"change" phase. Nothing passes or fails here.

    /usr/bin/python3 bench/change.py [--quick] [--records N] [--changes N] [--signed N]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PKGS = "libzscanner libknot liburcu libevent jansson yaml-0.1 sqlite3 libcrypto"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100,000 records, 10,000 changes, 100,000 signed names")
    ap.add_argument("--records", type=int)
    ap.add_argument("--changes", type=int)
    ap.add_argument("--signed", type=int)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    records = args.records or (100000 if args.quick else 1000000)
    changes = args.changes or (10000 if args.quick else 100000)
    signed = args.signed or (100000 if args.quick else 1000000)
    lib = os.path.join(args.build, "libtandem.a")
    if not os.path.exists(lib):
        sys.exit("bench/change.py: %s missing: run make first" % lib)
    tmp = tempfile.mkdtemp(prefix="tandem-change-bench-")
    try:
        libs = subprocess.run(["pkg-config", "--libs"] + PKGS.split(), capture_output=True, text=True,
                              check=True).stdout.split()
        binary = os.path.join(tmp, "change_cost")
        subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                        "-I" + os.path.join(ROOT, "src"), "-o", binary, os.path.join(HERE, "change_cost.c"),
                        lib] + libs + ["-pthread"], check=True)
        print("One-record changes through the change path: %s-record zone, %s changes; signed zone of %s names"
              % (format(records, ","), format(changes, ","), format(signed, ",")), flush=True)
        subprocess.run([binary, str(records), str(changes), str(signed), os.path.join(tmp, "store")],
                       check=True, timeout=3600)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
