"""Names a CRM can hold and that must reach every screen and file as plain text.

Shared by the unit, AppTest and browser tests. :func:`make_hostile` renames a demo database's
accounts, reps, territories and plans with them, through bound parameters (test set-up only).
"""

from __future__ import annotations

PWNED = "pwned"  # what the script-running names try to write into the top window's title

HOSTILE = [
    '<script>alert("xss")</script>',
    f"<img src=x onerror=\"top.document.title='{PWNED}'\">",
    '" onmouseover="alert(1)" data-x="',
    "'; alert(1); var x='",
    f"${{top.document.title='{PWNED}'}}",
    f"`${{top.document.title='{PWNED}'}}` and a ` backtick",
    "</script><script>alert(1)</script>",
    '\\"; alert(1); //',
    "**bold** _em_ `code`",
    ":red[red] :material/home: :smile:",
    r"$\frac{1}{2}$ and $$x^2$$",
    "[click](javascript:alert(1))",
    "![img](http://example.invalid/x.png)",
    '=HYPERLINK("http://example.invalid","open")',
    "+1+1 plus",
    "-2+3 minus",
    "@SUM(A1:A2)",
    "\t=1+1 tab",
    "{{ 7*7 }} {% if 1 %}jinja{% endif %}",
    "# Heading",
    "1. numbered",
    "&lt;b&gt;entity&lt;/b&gt;",
    "Ελληνικά مرحبا \u202eRTL override",
    "L" + "o" * 300 + "ng",
]

# what a name may render as if markdown or LaTeX ran (checked for absence in the browser)
MARKUP_SELECTORS = [".katex", "img[src*='example.invalid']", "a[href^='javascript']",
                    "[data-testid='stMarkdownContainer'] strong:text-is('bold')",
                    "[data-testid='stMarkdownContainer'] h1:text-is('Heading')",
                    "[data-testid='stMarkdownContainer'] em:text-is('em')"]


def make_hostile(con) -> None:
    """Give the accounts, reps, territories and working plans of a database hostile names."""
    n = len(HOSTILE)
    con.execute("UPDATE reps SET name = list_extract(?, (r.rn - 1) % ? + 1) FROM (SELECT rep_id, row_number() "
                "OVER (ORDER BY rep_id) AS rn FROM reps) r WHERE reps.rep_id = r.rep_id", [HOSTILE, n])
    con.execute("UPDATE accounts SET name = list_extract(?, (hash(account_id) % ?)::INTEGER + 1)", [HOSTILE, n])
    con.execute(
        "UPDATE territories SET name = list_extract(?, (t.rn - 1) % ? + 1) || CASE WHEN t.rn > ? THEN ' #' || t.rn "
        "ELSE '' END FROM (SELECT scenario_id, territory_id, row_number() OVER (PARTITION BY scenario_id "
        "ORDER BY territory_id) AS rn FROM territories) t "
        "WHERE territories.scenario_id = t.scenario_id AND territories.territory_id = t.territory_id",
        [HOSTILE, n, n])
