-- Quarto reads an image's alt text from the `fig-alt` attribute, plain pandoc
-- does not. This filter makes the fallback honour it, so one Markdown source
-- serves both renderers: the alt text becomes the image description (HTML
-- `alt`, docx `descr`), while a figure's caption stays the visible caption.
function Image(img)
  local alt = img.attributes['fig-alt']
  if alt == nil then
    return nil
  end
  img.attributes['fig-alt'] = nil
  img.caption = pandoc.Inlines(alt)
  return img
end

-- The fallback's HTML template has no `<main>` landmark (Quarto's has): wrap the
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
