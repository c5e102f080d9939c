"""Sphinx configuration of the course website (myst-nb with the Sphinx Book Theme).

``docs/site/build_site.py`` copies this file into a staging folder next to the executed
chapters and the generated landing page, then runs Sphinx there. Nothing here loads
anything from the network: MathJax is copied into ``_static/mathjax`` from the
``django-static-mathjax`` wheel, the theme ships its own fonts and icons, and search
uses Sphinx's own index.
"""

project = "Deep feedforward networks and backpropagation"
language = "en"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "downloads/**", "release/**", "Thumbs.db", ".DS_Store"]

# The builder executes the chapters itself (nbclient) and hands over executed notebooks.
nb_execution_mode = "off"
nb_ipywidgets_js = {}          # live widgets are replaced by their default-state figure
nb_render_markdown_format = "myst"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "attrs_inline"]
myst_heading_anchors = 3
# Display math ($$...$$) inside a paragraph, as the chapters write it and JupyterLab shows it.
myst_dmath_double_inline = True
suppress_warnings = ["myst.header"]

mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_title = "Deep feedforward networks"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_show_sourcelink = False
html_copy_source = False
html_show_search_summary = False   # excerpts need fetch(), which file:// pages may not use
html_last_updated_fmt = None
html_show_copyright = False
html_show_sphinx = False
html_context = {"default_mode": "light"}   # printed figures have white backgrounds
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "navigation_with_keys": False,
    "article_header_end": [],
    "navbar_persistent": [],
    "footer_content_items": [],
}
