-- Neither pandoc's HTML template nor Quarto's minimal one has a `<main>` landmark: wrap the
-- document body in one, so screen-reader users can jump to the content
-- (WCAG 2.1 1.3.1 / 2.4.1). HTML only; docx has no landmarks.
function Pandoc(doc)
  if not FORMAT:match('html') then
    return nil
  end
  doc.blocks:insert(1, pandoc.RawBlock('html', '<main>'))
  doc.blocks:insert(pandoc.RawBlock('html', '</main>'))
  return doc
end
