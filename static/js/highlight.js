/* Colours for the snippet panel: a small tokenizer for shell, Python and JavaScript that finds
   strings, comments, keywords and numbers (and shell variables). It builds text nodes and spans
   whose text is set with textContent, so a snippet is never parsed as HTML.
   render(element, text, language) replaces the element's children;
   tokens(text, language) returns [[kind or "", text], ...]. */

// A longer snippet (a large body) is shown uncoloured rather than slowly.
var MAX_CHARS = 200000;

function words(list) {
  var set = Object.create(null);
  list.split(" ").forEach(function (word) { set[word] = true; });
  return set;
}

// Each rule is [kind, sticky pattern]; at each position the first that matches wins, then a
// whole word (a keyword or not), else one plain character.
var DOUBLE_QUOTED = /"(?:[^"\\\n]|\\[\s\S])*"?/y;
var SINGLE_QUOTED = /'(?:[^'\\\n]|\\[\s\S])*'?/y;
var LANGUAGES = {
  shell: {
    keywords: words("if then else elif fi for while until do done case esac in function " +
                    "return export local set unset readonly exit"),
    word: /[A-Za-z_][\w-]*/y,
    rules: [
      ["comment", /(?<!\S)#.*/y],
      // A here-document, from <<'EOF' to the line that closes it.
      ["string", /<<-?[ \t]*(['"]?)([A-Za-z_]\w*)\1[^\n]*\n[\s\S]*?\n[ \t]*\2(?=\n|$)/y],
      ["string", /\$'(?:[^'\\]|\\[\s\S])*'?/y],
      ["string", /'[^']*'?/y],
      ["string", /"(?:[^"\\]|\\[\s\S])*"?/y],
      ["variable", /\$(?:\{[^}\n]*\}?|[A-Za-z_]\w*|[0-9@*#?$!])/y],
      ["number", /(?<![\w.-])\d+(?:\.\d+)?(?![\w.-])/y]
    ]
  },
  python: {
    keywords: words("False None True and as assert async await break class continue def del " +
                    "elif else except finally for from global if import in is lambda " +
                    "nonlocal not or pass raise return try while with yield"),
    word: /[A-Za-z_]\w*/y,
    rules: [
      ["comment", /#.*/y],
      ["string", /[rRbBfFuU]{0,2}(?:'''[\s\S]*?(?:'''|$)|"""[\s\S]*?(?:"""|$))/y],
      ["string", /[rRbBfFuU]{0,2}(?:'(?:[^'\\\n]|\\[\s\S])*'?|"(?:[^"\\\n]|\\[\s\S])*"?)/y],
      ["number", /(?:0[xXoObB][\da-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?j?)(?![\w.])/y]
    ]
  },
  javascript: {
    keywords: words("async await break case catch class const continue default delete do else " +
                    "export false finally for from function if import in instanceof let new " +
                    "null of return switch this throw true try typeof undefined var void " +
                    "while yield"),
    word: /[A-Za-z_$][\w$]*/y,
    rules: [
      ["comment", /\/\/.*/y],
      ["comment", /\/\*[\s\S]*?(?:\*\/|$)/y],
      ["string", SINGLE_QUOTED],
      ["string", DOUBLE_QUOTED],
      ["string", /`(?:[^`\\]|\\[\s\S])*`?/y],
      ["number", /(?:0[xXoObB][\da-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?n?)(?![\w.])/y]
    ]
  }
};

function matchAt(pattern, text, index) {
  pattern.lastIndex = index;
  var match = pattern.exec(text);
  return match && match[0] ? match[0] : null;
}

export function tokens(text, language) {
  var spec = LANGUAGES[language];
  if (!spec || text.length > MAX_CHARS) return text ? [["", text]] : [];
  var out = [], plain = "", index = 0;
  function push(kind, piece) {
    if (!kind) { plain += piece; return; }
    if (plain) out.push(["", plain]);
    plain = "";
    out.push([kind, piece]);
  }
  while (index < text.length) {
    var kind = "", piece = null;
    for (var r = 0; r < spec.rules.length && piece === null; r++) {
      piece = matchAt(spec.rules[r][1], text, index);
      kind = spec.rules[r][0];
    }
    if (piece === null) {
      piece = matchAt(spec.word, text, index);
      kind = piece !== null && spec.keywords[piece] ? "keyword" : "";
    }
    if (piece === null) piece = text[index];
    push(kind, piece);
    index += piece.length;
  }
  if (plain) out.push(["", plain]);
  return out;
}

export function render(element, text, language) {
  var fragment = document.createDocumentFragment();
  tokens(text, language).forEach(function (token) {
    if (!token[0]) {
      fragment.append(document.createTextNode(token[1]));
      return;
    }
    var span = document.createElement("span");
    span.className = "tok-" + token[0];
    span.textContent = token[1];
    fragment.append(span);
  });
  element.replaceChildren(fragment);
}
