-- pandoc's HTML writer drops an ordered list's delimiter ("1)" and "(1)" print as "1.");
-- keep it as a class on a wrapping div, which imprint/html/render.py moves onto the list.
function OrderedList(el)
  local delim = el.listAttributes.delimiter
  if delim == "OneParen" or delim == "TwoParens" then
    return pandoc.Div({el}, pandoc.Attr("", {"imprint-list-" .. delim:lower()}))
  end
end
