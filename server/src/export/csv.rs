//! RFC 4180 CSV, UTF-8, CRLF line ends: one row per document found.
//!
//! Scraped text is not trusted: a cell that a spreadsheet would read as a
//! formula (`=HYPERLINK(…)`, `+…`, `-…`, `@…`, or a tab or carriage return
//! first) is written with a leading `'`, which spreadsheets show as text.

use crate::catalog::Catalog;
use crate::domain::{Document, OperationResult, Task};
use crate::export::{Format, prefecture_name};

pub(super) const COLUMNS: [&str; 9] = [
    "prefecture_code",
    "prefecture_name",
    "keyword",
    "link",
    "title",
    "description",
    "published_on",
    "date_label",
    "first_seen_at",
];

#[derive(Debug)]
pub(super) struct Csv;

/// A cell as written: text a spreadsheet would take for a formula is
/// prefixed with `'`.
pub(super) fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}").into() } else { cell.into() }
}

fn row<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(out);
    // Writing to a Vec cannot fail.
    let cells: Vec<_> = fields.into_iter().map(neutralised).collect();
    let _ = writer.write_record(cells.iter().map(|cell| cell.as_bytes()));
    let _ = writer.flush();
}

impl Format for Csv {
    fn header(&mut self, out: &mut Vec<u8>, _task: &Task, _operations: &[OperationResult], _catalog: &Catalog) {
        row(out, COLUMNS);
    }

    fn document(&mut self, out: &mut Vec<u8>, doc: &Document, catalog: &Catalog) {
        let published = doc.published_on_text();
        let seen = doc.first_seen_at.to_rfc3339();
        row(
            out,
            [
                doc.prefecture_code.as_str(),
                prefecture_name(catalog, &doc.prefecture_code),
                &doc.keyword,
                &doc.link,
                &doc.title,
                &doc.description,
                &published,
                &doc.date_label,
                &seen,
            ],
        );
    }

    fn footer(&mut self, _out: &mut Vec<u8>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_written_as_text() {
        for (cell, written) in [
            ("=HYPERLINK(\"https://evil.example\",\"x\")", "'=HYPERLINK(\"https://evil.example\",\"x\")"),
            ("+33 1 23", "'+33 1 23"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
        ] {
            assert_eq!(neutralised(cell), written);
        }
        for plain in ["Arrêté préfectoral", "2025-03-12", "", "a=b", "56"] {
            assert_eq!(neutralised(plain), plain);
        }
    }

    #[test]
    fn a_row_keeps_its_neutralised_cells_quoted_where_csv_needs_it() {
        let mut out = Vec::new();
        row(&mut out, ["=1+1", "a,b", "ok"]);
        assert_eq!(String::from_utf8(out).expect("utf-8"), "'=1+1,\"a,b\",ok\r\n");
    }
}
