#!/usr/bin/env python3
"""Check a SQLite result (scrape-tasks' or a peer's) against the fixture manifest, or list the workload's page paths.

  check_result.py check MANIFEST DB [--keywords bovin,porcin,volaille]
      prints one JSON line: ok, operations, pages, cards, documents, mismatches (+ a few examples);
      exit status 0 when the stored result matches the manifest exactly, 1 otherwise.
  check_result.py paths MANIFEST [--keywords ...]
      prints every page path a complete run fetches (for wrk), one per line.

What "exactly" means: one operations row per (domain, keyword) of the workload and no other,
no error, items_found == cards and pages_fetched == pages of the manifest; the documents table
holds exactly the union of the expected absolute links, each with the expected title,
description and ISO date; and sum(new_documents) == number of documents.
"""
import argparse
import json
import sqlite3
import sys

DEFAULT_KEYWORDS = "bovin,porcin,volaille"


def load(manifest_path, keywords):
    with open(manifest_path, encoding="utf-8") as f:
        m = json.load(f)
    missing = [k for k in keywords if k not in m["keywords"]]
    if missing:
        sys.exit(f"keywords not in manifest: {missing}")
    ops = {(o["domain"], o["keyword"]): o for o in m["operations"].values() if o["keyword"] in keywords}
    return m, ops


def page_paths(m, op):
    for page in range(1, op["pages"] + 1):
        if page == 1:
            yield m["url_page1"].format(domain=op["domain"], keyword=op["keyword"])
        else:
            yield m["url_pageN"].format(domain=op["domain"], keyword=op["keyword"], offset=m["page_size"] * (page - 1))


def columns(con, table):
    return {row[1] for row in con.execute(f"PRAGMA table_info({table})")}


def check(m, ops, db_path):
    bad = []
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    # scrape-tasks stores prefecture codes (domains come from the catalog) and
    # published_on; the peers store domains and published.
    scrape_tasks = "prefecture_code" in columns(con, "operations")
    if scrape_tasks:
        domain_of = {site["code"]: site["domain"] for site in m["sites"]}
        rows = [(domain_of.get(code, code), k, items, new, pages, err) for code, k, items, new, pages, err in con.execute(
            "SELECT prefecture_code, keyword, items_found, new_documents, pages_fetched, error FROM operations")]
    else:
        rows = con.execute(
            "SELECT domain, keyword, items_found, new_documents, pages_fetched, error FROM operations").fetchall()
    got_ops = {}
    for d, k, items, new, pages, err in rows:
        if (d, k) in got_ops:
            bad.append(f"duplicate operation row {d}|{k}")
        got_ops[(d, k)] = (items, new, pages, err)
    for key in sorted(set(ops) - set(got_ops)):
        bad.append(f"missing operation {key[0]}|{key[1]}")
    for key in sorted(set(got_ops) - set(ops)):
        bad.append(f"unexpected operation {key[0]}|{key[1]}")
    for key in sorted(set(ops) & set(got_ops)):
        items, new, pages, err = got_ops[key]
        exp = ops[key]
        if err:
            bad.append(f"{key[0]}|{key[1]} error: {err}")
        if items != exp["cards"]:
            bad.append(f"{key[0]}|{key[1]} items_found {items} != {exp['cards']}")
        if pages != exp["pages"]:
            bad.append(f"{key[0]}|{key[1]} pages_fetched {pages} != {exp['pages']}")

    expected_links = {link for o in ops.values() for link in o["links"]}
    docs = {}
    date_column = "published_on" if scrape_tasks else "published"
    for link, title, desc, date in con.execute(f"SELECT link, title, description, {date_column} FROM documents"):
        docs[link] = (title, desc, date)
    for link in sorted(expected_links - set(docs))[:50]:
        bad.append(f"missing document {link}")
    if len(expected_links - set(docs)) > 50:
        bad.append(f"... {len(expected_links - set(docs)) - 50} more missing documents")
    for link in sorted(set(docs) - expected_links)[:50]:
        bad.append(f"unexpected document {link}")
    for link in sorted(expected_links & set(docs)):
        e = m["documents"][link]
        title, desc, date = docs[link]
        for field, got, want in (("title", title, e["title"]), ("description", desc, e["description"]), ("date", date, e["date"])):
            if got != want:
                bad.append(f"{link} {field}: {got!r} != {want!r}")
    new_total = sum(v[1] for v in got_ops.values())
    if new_total != len(docs):
        bad.append(f"sum(new_documents) {new_total} != stored documents {len(docs)}")
    con.close()
    return {
        "ok": not bad,
        "operations": len(got_ops),
        "pages": sum(v[2] or 0 for v in got_ops.values()),
        "cards": sum(v[0] or 0 for v in got_ops.values()),
        "documents": len(docs),
        "expected": {"operations": len(ops), "pages": sum(o["pages"] for o in ops.values()),
                     "cards": sum(o["cards"] for o in ops.values()), "documents": len(expected_links)},
        "mismatches": len(bad),
        "examples": bad[:8],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("manifest")
    c.add_argument("db")
    c.add_argument("--keywords", default=DEFAULT_KEYWORDS)
    p = sub.add_parser("paths")
    p.add_argument("manifest")
    p.add_argument("--keywords", default=DEFAULT_KEYWORDS)
    args = ap.parse_args()
    m, ops = load(args.manifest, [k for k in args.keywords.split(",") if k])
    if args.cmd == "paths":
        for key in sorted(ops):
            for path in page_paths(m, ops[key]):
                print(path)
        return
    res = check(m, ops, args.db)
    print(json.dumps(res, ensure_ascii=False))
    sys.exit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
