#!/usr/bin/env python3
"""Compare two V8 heap snapshots (e.g. the memory bench's BENCH_HEAP_SNAPSHOT idle and 1000 ones).

  python3 bench/heap-diff.py BEFORE.heapsnapshot AFTER.heapsnapshot [--top 40]
      self size and count by (node type, constructor name), the largest growth first
  python3 bench/heap-diff.py BEFORE AFTER --retainers NAME [--top 20]
      for the nodes named NAME in AFTER: who holds them (the holder's name and the edge), by count
  python3 bench/heap-diff.py BEFORE AFTER --holders [--top 40]
      the objects new in AFTER (node ids are kept across snapshots of one process), summed by the
      object that held them already in BEFORE, on the shortest path from the roots: which long-lived
      map or cache grew ("object _REST.handlers -> object _Collection .table -> array")
  python3 bench/heap-diff.py BEFORE AFTER --strings [--top 20]
      the string values that grew most in count (their first 60 characters)

Growth is AFTER - BEFORE, so with 1,000 conversations between them, bytes / 1000 is per conversation.
"""
import argparse
import json
from collections import Counter, deque


class Snapshot:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        meta = data["snapshot"]["meta"]
        self.node_fields = meta["node_fields"]
        self.edge_fields = meta["edge_fields"]
        self.node_types = meta["node_types"][0]
        self.edge_types = meta["edge_types"][0]
        self.nodes = data["nodes"]
        self.edges = data["edges"]
        self.strings = data["strings"]
        self.nf = len(self.node_fields)
        self.ef = len(self.edge_fields)
        self.f_type = self.node_fields.index("type")
        self.f_name = self.node_fields.index("name")
        self.f_size = self.node_fields.index("self_size")
        self.f_edges = self.node_fields.index("edge_count")
        self.e_type = self.edge_fields.index("type")
        self.e_name = self.edge_fields.index("name_or_index")
        self.e_to = self.edge_fields.index("to_node")

    def count(self):
        return len(self.nodes) // self.nf

    def type_of(self, i):
        return self.node_types[self.nodes[i * self.nf + self.f_type]]

    def name_of(self, i):
        return self.strings[self.nodes[i * self.nf + self.f_name]]

    def size_of(self, i):
        return self.nodes[i * self.nf + self.f_size]

    def key_of(self, i):
        t = self.type_of(i)
        if t in ("string", "concatenated string", "sliced string", "number", "hidden", "code"):
            return t
        if t == "array":
            return "array " + self.name_of(i)
        return f"{t} {self.name_of(i)}"

    def aggregate(self):
        size = Counter()
        count = Counter()
        for i in range(self.count()):
            k = self.key_of(i)
            size[k] += self.size_of(i)
            count[k] += 1
        return size, count

    def edges_out(self):
        """(from node, edge type, edge name, to node) for every edge."""
        e = 0
        for i in range(self.count()):
            n = self.nodes[i * self.nf + self.f_edges]
            for _ in range(n):
                base = e * self.ef
                et = self.edge_types[self.edges[base + self.e_type]]
                name = self.edges[base + self.e_name]
                if et not in ("element", "hidden"):
                    name = self.strings[name]
                yield i, et, name, self.edges[base + self.e_to] // self.nf
                e += 1


def diff(before, after, top):
    sb, cb = before.aggregate()
    sa, ca = after.aggregate()
    keys = set(sa) | set(sb)
    rows = sorted(keys, key=lambda k: sa[k] - sb[k], reverse=True)
    total = sum(sa.values()) - sum(sb.values())
    print(f"total self size {sum(sb.values()) / 1e6:.2f} MB → {sum(sa.values()) / 1e6:.2f} MB "
          f"({total / 1e6:+.2f} MB), nodes {before.count()} → {after.count()}")
    print(f"{'Δ bytes':>12} {'Δ count':>9} {'after bytes':>12} {'after n':>8}  type / constructor")
    for k in rows[:top]:
        print(f"{sa[k] - sb[k]:>12} {ca[k] - cb[k]:>9} {sa[k]:>12} {ca[k]:>8}  {k}")


def retainers(snap, name, top):
    targets = {i for i in range(snap.count()) if snap.key_of(i).split(" ", 1)[-1] == name}
    held = Counter()
    for frm, et, ename, to in snap.edges_out():
        if to in targets and et != "weak":
            label = ename if et not in ("element", "hidden") else f"[{et}]"
            held[f"{snap.key_of(frm)} --{label}-->"] += 1
    print(f"{len(targets)} nodes named {name!r}; held by:")
    for k, n in held.most_common(top):
        print(f"{n:>8}  {k}")


def holders(before, after, top):
    f_id = before.node_fields.index("id")
    known = {before.nodes[i * before.nf + f_id] for i in range(before.count())}
    n = after.count()
    new = [after.nodes[i * after.nf + f_id] not in known for i in range(n)]
    out = [[] for _ in range(n)]
    for frm, et, ename, to in after.edges_out():
        if et not in ("weak", "shortcut"):
            out[frm].append((to, ename if et not in ("element", "hidden") else f"[{et}]"))
    # Breadth first from the root: each node's parent on its shortest retaining path.
    parent, via = [-1] * n, [None] * n
    seen = [False] * n
    seen[0] = True
    queue = deque([0])
    while queue:
        x = queue.popleft()
        for to, ename in out[x]:
            if not seen[to]:
                seen[to], parent[to], via[to] = True, x, ename
                queue.append(to)
    size, count = Counter(), Counter()
    for i in range(n):
        if not new[i] or not seen[i]:
            continue
        top_new, x = i, i
        while x >= 0 and new[x]:
            top_new, x = x, parent[x]
        held = f"{after.key_of(parent[x])}.{via[x]} -> " if parent[x] >= 0 else ""
        key = f"{held}{after.key_of(x)} .{via[top_new]} -> {after.key_of(top_new)}"
        size[key] += after.size_of(i)
        count[key] += 1
    print(f"new objects: {sum(size.values())} bytes, {sum(count.values())} nodes")
    print(f"{'bytes':>10} {'nodes':>7}  held by (already there before) → first new object")
    for key, b in size.most_common(top):
        print(f"{b:>10} {count[key]:>7}  {key[:200]}")


def strings(before, after, top):
    def values(s):
        c = Counter()
        for i in range(s.count()):
            if s.type_of(i) == "string":
                c[s.name_of(i)[:60]] += 1
        return c

    vb, va = values(before), values(after)
    grew = Counter({k: va[k] - vb[k] for k in va if va[k] > vb[k]})
    for k, n in grew.most_common(top):
        print(f"{n:>8}  {k!r}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--retainers")
    p.add_argument("--strings", action="store_true")
    p.add_argument("--holders", action="store_true")
    a = p.parse_args()
    after = Snapshot(a.after)
    if a.retainers:
        retainers(after, a.retainers, a.top)
        return
    before = Snapshot(a.before)
    if a.holders:
        holders(before, after, a.top)
    elif a.strings:
        strings(before, after, a.top)
    else:
        diff(before, after, a.top)


if __name__ == "__main__":
    main()
