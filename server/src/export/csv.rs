//! RFC 4180 CSV, UTF-8, CRLF line ends: one row per document found.

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

fn row<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(out);
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(fields);
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
