//! Typesetting a report into a PDF with typst, from the template in
//! `templates/` and the fonts in `assets/fonts`, both built into the binary.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use typst::foundations::{Bytes, Dict, IntoValue};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};
use typst_layout::PagedDocument;

use crate::ServiceReport;

const TEMPLATE: &str = include_str!("../templates/service_report.typ");
const FONTS: [&[u8]; 3] = [
    include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSans-Oblique.ttf"),
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the report could not be typeset: {0}")]
    Typeset(String),
    #[error("the report could not be written as PDF: {0}")]
    Pdf(String),
}

/// One engine for the process: fonts parsed once.
fn engine() -> &'static TypstEngine<TypstTemplateMainFile> {
    static ENGINE: OnceLock<TypstEngine<TypstTemplateMainFile>> = OnceLock::new();
    ENGINE.get_or_init(|| TypstEngine::builder().main_file(TEMPLATE).fonts(FONTS).build())
}

/// The report as an A4 PDF. `images` holds the bytes of the photos'
/// previews and of the signature by their hash; one that is missing is
/// printed as a placeholder (the device may not hold every preview).
pub fn render(report: &ServiceReport, images: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, RenderError> {
    let document = typeset(report, images)?;
    typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
        .map_err(|errors| RenderError::Pdf(errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")))
}

/// The report laid out in pages.
fn typeset(report: &ServiceReport, images: &BTreeMap<String, Vec<u8>>) -> Result<PagedDocument, RenderError> {
    let mut inputs = Dict::new();
    inputs.insert("data".into(), Bytes::new(report.data()).into_value());
    inputs.insert("hash".into(), report.data_hash().into_value());
    let mut pictures = Dict::new();
    for (hash, bytes) in images {
        pictures.insert(hash.as_str().into(), Bytes::new(bytes.clone()).into_value());
    }
    inputs.insert("images".into(), pictures.into_value());
    let compiled = engine().compile_with_input::<_, PagedDocument>(inputs);
    compiled.output.map_err(|e| RenderError::Typeset(format!("{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::sample;
    use crate::{Lang, PhotoLine, SignatureLine, WorkLine};

    pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::GrayImage::from_fn(width, height, |x, y| image::Luma([((x * 7 + y * 3) % 255) as u8]));
        let mut bytes = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        bytes
    }

    #[test]
    fn a_report_renders_in_both_languages_with_images_and_without() {
        let mut report = sample();
        report.photos = vec![
            PhotoLine { name: "shelf.jpg".into(), hash: "a".repeat(64), thumbnail: Some("b".repeat(64)) },
            PhotoLine { name: "rack.jpg".into(), hash: "c".repeat(64), thumbnail: Some("d".repeat(64)) },
        ];
        report.signature =
            Some(SignatureLine {
                signer: "Иван Петров".into(), at: "2026-12-03 11:00".into(), image: "e".repeat(64)
            });
        let images = BTreeMap::from([("b".repeat(64), png(40, 30)), ("e".repeat(64), png(120, 40))]);
        let pdf = render(&report, &images).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "a PDF");
        assert!(pdf.len() < 400 * 1024, "a few hundred kilobytes at most: {}", pdf.len());
        report.lang = Lang::En;
        report.signature = None;
        assert!(render(&report, &BTreeMap::new()).unwrap().starts_with(b"%PDF-"));
    }

    #[test]
    fn text_that_looks_like_markup_is_printed_as_text() {
        let mut report = sample();
        report.title = "#panic(\"x\") *bold* $math$ ]".into();
        report.work.push(WorkLine {
            at: "x".into(),
            by: "#{".into(),
            text: "= heading\n#import \"/etc/passwd\"".into(),
        });
        assert!(render(&report, &BTreeMap::new()).is_ok(), "the data is never evaluated");
    }

    #[test]
    fn a_long_report_breaks_across_pages() {
        let mut report = sample();
        report.work = (0..150)
            .map(|i| WorkLine {
                at: "2026-12-03 10:00".into(),
                by: "Сергей".into(),
                text: format!("Шаг {i}: проверено"),
            })
            .collect();
        assert!(
            typeset(&report, &BTreeMap::new()).unwrap().pages().len() >= 2,
            "150 lines of work take more than a page"
        );
        report.work.truncate(1);
        assert_eq!(typeset(&report, &BTreeMap::new()).unwrap().pages().len(), 1);
    }
}
