"""Self-contained HTML pages: inline CSS, no script, no external resource (a Content Security
Policy says so to the browser too), every student-controlled string escaped with `esc`."""
import html

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.sub { color: #555; margin-top: 0; }
.score { font-size: 1.3rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
th { background: #f3f3f5; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
.pass { color: #17692c; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.msg { white-space: pre-wrap; overflow-wrap: anywhere; }
.failure { border-left: 4px solid #b3261e; padding: .2rem .8rem; margin: .8rem 0;
           background: #fdf3f2; }
.note { border-left: 4px solid #b58100; padding: .2rem .8rem; background: #fdf8ea; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; } figcaption { font-size: .9rem; color: #333; }
code { font-size: .9em; background: #f3f3f5; padding: 0 .2em; }
.muted { color: #666; font-size: .9rem; }
"""

POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def esc(text):
    """Text made safe for HTML element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


def page(title, body):
    """A whole HTML document around `body` (already HTML)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")


def table(headers, rows, numeric=()):
    """An HTML table; cells are already HTML. `numeric` lists the column indices to right-align."""
    def cell(tag, i, content):
        cls = ' class="num"' if i in numeric else ""
        return f"<{tag}{cls}>{content}</{tag}>"
    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "\n".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>"
                     for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
