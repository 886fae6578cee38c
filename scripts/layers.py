#!/usr/bin/env python3
"""scripts/layers.py -- checks that the modules of src/ call one another one way (ARCHITECTURE.md).

Reads the object files of a build (`nm`: what each defines and what it needs) and draws one arrow from a
folder to another for every function or variable one uses of the other's. Fails, naming the calls that
close it, on any circle between folders: a lower module that calls up into a higher one (say runtime/ into
server/) is exactly the tangle the layers are there to prevent. Circles between files of one folder are
allowed (a worker and its TCP connections). Usage: scripts/layers.py [BUILD_DIR] (default build).
"""
import collections
import glob
import os
import subprocess
import sys


def read(build):
    defs, uses = {}, collections.defaultdict(set)
    objs = sorted(glob.glob(os.path.join(build, "src", "*", "*.o")))
    for obj in objs:
        folder = obj.split(os.sep)[-2]
        if folder in ("tandemd", "tandem"):
            continue   # the two main.c files stand above everything
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRC":
                defs[parts[2]] = (folder, os.path.basename(obj))
            elif len(parts) == 2 and parts[0] == "U":
                uses[(folder, os.path.basename(obj))].add(parts[1])
    return objs, defs, uses


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    objs, defs, uses = read(build)
    if not objs:
        print("layers: no object files under %s/src: build first" % build, file=sys.stderr)
        return 2
    arrows = collections.defaultdict(set)   # (from folder, to folder) -> "file -> file: name"
    for (folder, obj), names in uses.items():
        for name in names:
            to = defs.get(name)
            if to is not None and to[0] != folder:
                arrows[(folder, to[0])].add("%s/%s -> %s/%s: %s" % (folder, obj[:-2], to[0], to[1][:-2], name))
    graph = collections.defaultdict(set)
    for a, b in arrows:
        graph[a].add(b)
    # The folders that reach one another (a circle) and the arrows between them. The arrow of fewest
    # calls is most often the one that goes the wrong way: those come first, with their calls.
    def reach(start):
        seen, todo = set(), [start]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(graph[n])
        return seen
    reachable = {f: reach(f) for f in list(graph)}
    circles = {frozenset(g for g in reachable[f] if f in reachable.get(g, ())) for f in reachable}
    circles = sorted(sorted(c) for c in circles if len(c) > 1)
    for circle in circles:
        inside = sorted(((a, b) for (a, b) in arrows if a in circle and b in circle),
                        key=lambda ab: (len(arrows[ab]), ab))
        print("layers: a circle between %s; its arrows, fewest calls first:"
              % ", ".join(f + "/" for f in circle), file=sys.stderr)
        for n, ab in enumerate(inside):
            print("  %s/ -> %s/: %d" % (ab[0], ab[1], len(arrows[ab])), file=sys.stderr)
            if n < 3:
                for call in sorted(arrows[ab])[:8]:
                    print("      " + call, file=sys.stderr)
    if circles:
        return 1
    print("layers: %d modules, %d arrows between them, no circle" % (len({f for f, _ in uses}), len(arrows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
