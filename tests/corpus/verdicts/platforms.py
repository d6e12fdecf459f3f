"""Page shells in the markup of the platforms a training guide links to (written for the corpus).

Each shell takes (site, title, main_html, noise) and returns a whole HTML document with that
platform's chrome: header, navigation, breadcrumbs, sidebars, footer, scripts. `noise` is extra
chrome a later visit may carry (a banner, a date, a counter) and goes where the platform puts it.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

Shell = Callable[[str, str, str, str], str]


def _nav(items: list[str], cls: str = "menu") -> str:
    return f'<ul class="{cls}">' + "".join(
        f'<li><a href="/{i.lower().replace(" ", "-")}">{i}</a></li>' for i in items) + "</ul>"


NAV = ["About", "Services", "Events", "Training", "Contact", "Log in"]


def drupal7(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML+RDFa 1.0//EN" "http://www.w3.org/MarkUp/DTD/xhtml-rdfa-1.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en" dir="ltr">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{escape(title)} | {site}</title>
<script type="text/javascript" src="/misc/drupal.js?v=7.98"></script>
<script type="text/javascript">jQuery.extend(Drupal.settings, {{"basePath":"\\/"}});</script></head>
<body class="html not-front page-node node-type-page">
<div id="skip-link"><a href="#main-content" class="element-invisible">Skip to main content</a></div>
<div id="page-wrapper"><div id="header"><a href="/" id="logo">{site}</a>
<div class="region region-header">{_nav(NAV)}</div></div>
<div id="navigation">{_nav(["Home", "Programs", "Calendar", "Membership"], "links")}</div>
<div class="breadcrumb"><a href="/">Home</a> » {escape(title)}</div>
{noise}
<div id="main"><a id="main-content"></a><h1 class="title" id="page-title">{escape(title)}</h1>
<div class="node"><div class="content"><div class="field-item even">{main}</div></div></div></div>
<div id="sidebar-second" class="sidebar"><div class="block"><h2>Upcoming</h2><p>See the calendar.</p></div></div>
<div id="footer">Powered by <a href="https://www.drupal.org">Drupal</a> · © {site}</div></div></body></html>"""


def drupal9(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr"><head><meta charset="utf-8" />
<meta name="Generator" content="Drupal 9 (https://www.drupal.org)" />
<title>{escape(title)} | {site}</title>
<script src="/core/misc/drupal.js?v=9.5.11"></script></head>
<body class="path-node page-node-type-basic-page">
<a href="#main-content" class="visually-hidden focusable skip-link">Skip to main content</a>
<div class="dialog-off-canvas-main-canvas"><header role="banner" class="site-header">
<div class="region region-header"><a href="/" rel="home">{site}</a></div>
<nav role="navigation" aria-labelledby="block-main-menu">{_nav(NAV, "menu menu--main")}</nav></header>
{noise}
<main role="main"><a id="main-content" tabindex="-1"></a>
<div class="region region-content"><h1 class="page-title"><span>{escape(title)}</span></h1>
<article class="node node--type-page"><div class="node__content clearfix">
<div class="clearfix text-formatted field field--name-body">{main}</div></div></article></div></main>
<footer role="contentinfo" class="site-footer"><div class="region region-footer">{_nav(["Privacy", "Accessibility", "Sitemap"])}</div></footer>
</div></body></html>"""


def drupal10(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr" class="no-js"><head><meta charset="utf-8">
<meta name="Generator" content="Drupal 10 (https://www.drupal.org)">
<title>{escape(title)} | {site}</title><link rel="stylesheet" media="all" href="/core/themes/olivero/css/base/base.css?s8k3">
</head><body class="path-node page-node-type-article">
<div id="page-wrapper" class="page-wrapper"><div id="page">
<header id="header" class="site-header" data-drupal-selector="site-header" role="banner">
<div class="site-branding"><a href="/" class="site-branding__name">{site}</a></div>
<nav class="primary-nav" aria-label="Main">{_nav(NAV, "menu primary-nav__menu")}</nav></header>
<div id="main-wrapper" class="layout-main-wrapper">{noise}<div id="main" class="layout-main">
<main id="content" class="main-content" role="main">
<div class="region region--content"><h1 class="title page-title">{escape(title)}</h1>
<article class="node text-content"><div class="node__content">{main}</div></article></div></main></div></div>
<footer class="site-footer"><div class="site-footer__inner">© {site} · Olivero</div></footer></div></div>
<script src="/core/assets/vendor/once/once.min.js?v=1.0.1"></script></body></html>"""


def wordpress(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!doctype html>
<html lang="en-US"><head><meta charset="UTF-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} &#8211; {site}</title>
<meta name="generator" content="WordPress 6.4.2" />
<link rel='stylesheet' id='twentytwentyone-style-css' href='/wp-content/themes/twentytwentyone/style.css?ver=1.9' media='all' />
<script src="/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script></head>
<body class="page-template-default page wp-embed-responsive">
<div id="page" class="site"><a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<header id="masthead" class="site-header"><div class="site-branding"><p class="site-title"><a href="/">{site}</a></p>
<p class="site-description">Learning for library staff</p></div>
<nav id="site-navigation" class="primary-navigation">{_nav(NAV, "menu-wrapper")}</nav></header>
{noise}
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">
<article class="page type-page status-publish hentry"><header class="entry-header alignwide"><h1 class="entry-title">{escape(title)}</h1></header>
<div class="entry-content">{main}</div></article></main></div></div>
<aside class="widget-area"><section class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2>{_nav(["Spring newsletter", "Board minutes"])}</section></aside>
<footer id="colophon" class="site-footer"><div class="powered-by">Proudly powered by <a href="https://wordpress.org/">WordPress</a>.</div></footer></div></body></html>"""


def libguides(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta http-equiv="X-UA-Compatible" content="IE=Edge" />
<meta http-equiv="content-type" content="text/html; charset=UTF-8">
<title>{escape(title)} - Research Guides at {site}</title>
<script type="text/javascript" src="//libapps.s3.amazonaws.com/web/jquery/js/jquery.js"></script>
<script>springSpace.Util.setProp("gid", 38211);</script></head>
<body class="s-lg-guide-body"><a id="s-lg-public-skiplink" class="alert-info" href="#s-lg-guide-main">Skip to Main Content</a>
<div id="s-lg-tabs-container" class="container s-lib-side-borders">
<div id="s-lib-bc"><ol id="s-lib-bc-list" class="breadcrumb"><li><a href="/">{site}</a></li><li>LibGuides</li><li class="active">{escape(title)}</li></ol></div>
<div id="s-lg-guide-header-info"><h1 id="s-lg-guide-name">{escape(title)}</h1><div id="s-lg-guide-desc-container">A guide for staff.</div></div>
{noise}
<div id="s-lg-guide-tabs" class="s-lg-tabs"><ul class="nav nav-pills"><li class="active"><a href="#">Home</a></li><li><a href="#">Databases</a></li></ul></div>
<div id="s-lg-guide-main" class="row s-lg-row"><div class="col-md-9"><div class="s-lib-box s-lib-box-std"><div class="s-lib-box-content">{main}</div></div></div>
<div class="col-md-3 s-lg-col-side"><div class="s-lib-profile-container"><h2>Subject Guide</h2><p>Ask a librarian.</p></div></div></div>
<div id="s-lib-footer-public" class="s-lib-footer"><div id="s-lib-footer-login-link"><a href="https://{site}.libapps.com/libapps/login.php">Login to LibApps</a></div><div id="s-lib-footer-rights">Last Updated: Feb 3, 2026</div></div></div></body></html>"""


def aem(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!DOCTYPE HTML>
<html lang="en"><head><meta charset="UTF-8"/><title>{escape(title)}</title>
<meta name="template" content="content-page"/>
<link rel="stylesheet" href="/etc.clientlibs/{site}/clientlibs/clientlib-site.min.css" type="text/css">
<script src="/etc.clientlibs/clientlibs/granite/jquery.min.js"></script></head>
<body class="page basicpage" id="page-1f7a3c"><div class="root container responsivegrid"><div id="container-3d1" class="cmp-container">
<div class="experiencefragment header"><div class="cmp-experiencefragment cmp-experiencefragment--header">
<nav class="cmp-navigation" role="navigation">{_nav(NAV, "cmp-navigation__group")}</nav></div></div>
<div class="breadcrumb"><nav class="cmp-breadcrumb" aria-label="Breadcrumb"><ol><li><a href="/content/{site}/en.html">Home</a></li></ol></nav></div>
{noise}
<main class="container responsivegrid"><div class="title"><div class="cmp-title"><h1 class="cmp-title__text">{escape(title)}</h1></div></div>
<div class="text"><div class="cmp-text">{main}</div></div></main>
<div class="experiencefragment footer"><div class="cmp-experiencefragment cmp-experiencefragment--footer"><p>© {site}. All rights reserved.</p></div></div>
</div></div></body></html>"""


def moodle(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!DOCTYPE html>
<html dir="ltr" lang="en" xml:lang="en"><head><title>{site}: {escape(title)}</title>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<script>var M = {{}}; M.yui = {{}}; M.cfg = {{"wwwroot":"https:\\/\\/{site}","sesskey":"Xh3kq","theme":"boost"}};</script></head>
<body id="page-course-view-topics" class="format-topics path-course limitedwidth">
<div id="page-wrapper" class="d-print-block"><nav class="navbar fixed-top navbar-light bg-white navbar-expand" aria-label="Site navigation">
<a href="https://{site}/" class="navbar-brand">{site}</a><div class="primary-navigation">{_nav(["Home", "Dashboard", "My courses"], "navbar-nav")}</div>
<div class="usermenu"><span class="login">You are not logged in. (<a href="https://{site}/login/index.php">Log in</a>)</span></div></nav>
<div id="page" class="drawers"><div id="topofscroll" class="main-inner">{noise}
<header id="page-header" class="header-maxwidth"><div class="page-header-headings"><h1 class="h2">{escape(title)}</h1></div></header>
<div id="page-content" class="pb-3"><div id="region-main-box"><section id="region-main" aria-label="Content">
<div role="main"><span class="notifications" id="user-notifications"></span>{main}</div></section></div></div></div></div>
<footer id="page-footer" class="footer-popover"><div class="footer-content-debugging"></div><div class="logininfo">You are not logged in.</div>
<div class="tool_dataprivacy"><a href="https://{site}/admin/tool/dataprivacy/summary.php">Data retention summary</a></div></footer></div></body></html>"""


def dspace(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><title>{escape(title)}</title>
<base href="/"><meta name="Generator" content="DSpace 7.6">
<link rel="stylesheet" href="styles.css"></head>
<body><ds-app><ds-root><div class="outer-wrapper"><ds-header-navbar-wrapper><header class="header">
<nav role="navigation" class="navbar navbar-expand-md">{_nav(["Communities & Collections", "All of DSpace", "Statistics"], "navbar-nav")}</nav></header></ds-header-navbar-wrapper>
<ds-breadcrumbs><nav aria-label="breadcrumb" class="nav-breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/home">Home</a></li></ol></nav></ds-breadcrumbs>
{noise}
<main class="main-content"><div id="ds-body" class="container"><ds-item-page><h1 class="item-page-title-field">{escape(title)}</h1>
<div class="simple-view-element">{main}</div></ds-item-page></div></main>
<ds-footer><footer class="text-lg-start"><div class="bottom-footer"><a href="http://www.dspace.org/">DSpace software</a> copyright © 2002-2026 LYRASIS</div></footer></ds-footer>
</div></ds-root></ds-app></body></html>"""


def squarespace(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!doctype html>
<html lang="en-US"><head><meta charset="utf-8" />
<title>{escape(title)} &mdash; {site}</title>
<!-- This is Squarespace. --><!-- {site} -->
<script type="text/javascript" crossorigin="anonymous" src="//assets.squarespace.com/universal/scripts-compressed/extract-css-runtime.js"></script>
<script>Static.SQUARESPACE_CONTEXT = {{"website":{{"siteTitle":"{site}"}}}};</script></head>
<body id="collection-5f1a" class="header-layout-nav-right tweak-social-icons-style-regular">
<header data-test="header" id="header" class="header theme-col--primary"><div class="header-title-text"><a href="/">{site}</a></div>
<div class="header-nav"><nav class="header-nav-list">{_nav(["Home", "Workshops", "Blog", "Contact"], "header-nav-item")}</nav></div></header>
{noise}
<main id="page" class="container" role="main"><article class="sections" id="sections"><section class="page-section"><div class="content-wrapper"><div class="content">
<div class="sqs-block html-block"><div class="sqs-block-content"><h1>{escape(title)}</h1>{main}</div></div></div></div></section></article></main>
<footer class="sections" id="footer-sections"><div class="sqs-block-content"><p>© 2026 {site}</p></div></footer></body></html>"""


def apache(site: str, title: str, main: str, noise: str) -> str:
    return f"""<html>
<head><title>{escape(title)}</title>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>
<body bgcolor="#FFFFFF">
<table width="100%"><tr><td><a href="/">{site}</a> | <a href="/staff/">Staff</a></td></tr></table>
{noise}
<h1>{escape(title)}</h1>
{main}
<hr><address>Maintained by the webmaster of {site}.</address>
</body></html>"""


def joomla(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en-gb" dir="ltr"><head><meta charset="utf-8"><meta name="generator" content="Joomla! - Open Source Content Management">
<title>{escape(title)} - {site}</title><script src="/media/system/js/core.min.js?576eb5"></script></head>
<body class="site com_content wrapper-static view-article layout-blog">
<header class="header container-header full-width"><div class="grid-child"><div class="navbar-brand"><a class="brand-logo" href="/">{site}</a></div></div>
<div class="grid-child container-nav"><ul class="mod-menu mod-list nav">{_nav(NAV)}</ul></div></header>
<div class="site-grid">{noise}<div class="grid-child container-component"><nav class="mod-breadcrumbs__wrapper" aria-label="Breadcrumbs"><ol class="mod-breadcrumbs breadcrumb"><li>Home</li></ol></nav>
<main><div class="com-content-article item-page"><div class="page-header"><h1>{escape(title)}</h1></div>
<div class="com-content-article__body">{main}</div></div></main></div></div>
<footer class="container-footer footer full-width"><div class="grid-child"><p>Copyright © 2026 {site}</p></div></footer></body></html>"""


def wix(site: str, title: str, main: str, noise: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset='utf-8'><meta name="generator" content="Wix.com Website Builder"/>
<title>{escape(title)} | {site}</title>
<script>window.viewerModel = {{"siteFeatures":["bgScrub"],"site":{{"metaSiteId":"0a1b"}}}};</script></head>
<body><div id="SITE_CONTAINER"><div id="main_MF"><div id="SCROLL_TO_TOP"></div>
<header id="SITE_HEADER" class="wixui-header"><div data-testid="linkElement"><a href="/">{site}</a></div>
<nav id="comp-menu" aria-label="Site">{_nav(["Home", "Classes", "About"], "wixui-horizontal-menu")}</nav></header>
{noise}
<main id="PAGES_CONTAINER" tabindex="-1"><div id="SITE_PAGES"><section class="wixui-section"><div data-testid="richTextElement"><h1 class="font_0 wixui-rich-text__text">{escape(title)}</h1>{main}</div></section></div></main>
<footer id="SITE_FOOTER" class="wixui-footer"><p>© 2026 by {site}. Proudly created with Wix.com</p></footer></div></div></body></html>"""


SHELLS: dict[str, Shell] = {
    f.__name__: f for f in (drupal7, drupal9, drupal10, wordpress, libguides, aem, moodle,
                            dspace, squarespace, apache, joomla, wix)
}
# Held out of tuning: their markup was not looked at while the rules were written.
HOLDOUT_PLATFORMS = frozenset({"drupal10", "aem", "dspace", "joomla", "wix"})
