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
