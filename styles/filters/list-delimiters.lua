-- pandoc's HTML writer drops an ordered list's delimiter ("1)" and "(1)" print as "1.");
-- keep it as a class on a wrapping div, which imprint/html/render.py moves onto the list.
function OrderedList(el)
  local delim = el.listAttributes.delimiter
  if delim == "OneParen" or delim == "TwoParens" then
    return pandoc.Div({el}, pandoc.Attr("", {"imprint-list-" .. delim:lower()}))
  end
end

-- A definition of several paragraphs in a tight definition list (no blank line between the
-- term and its `:`) holds them as Plain blocks, which pandoc's HTML writes one after the other
-- with no break: "Natura. Un secondo paragrafo" ran on as one. Such a definition's blocks are
-- paragraphs, as in a loose list.
function DefinitionList(el)
  for _, item in ipairs(el.content) do
    for _, definition in ipairs(item[2]) do
      if #definition > 1 then
        for i, block in ipairs(definition) do
          if block.t == "Plain" then
            definition[i] = pandoc.Para(block.content)
          end
        end
      end
    end
  end
  return el
end
