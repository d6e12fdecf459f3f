"""Wordings of the corpus, written for it. Each list is split: even entries tune, odd ones are held out."""

from __future__ import annotations

TOPICS = [
    ("Introduction to Cataloging", "cataloging", [
        "This self-paced course introduces the principles of descriptive cataloging for library support staff.",
        "Participants learn to read MARC records, apply RDA instructions and choose access points for books and media.",
        "Each module ends with a short quiz, and a certificate of completion is issued after the final assignment.",
        "The course takes about twenty hours and can be started at any time during the semester."]),
    ("Reference Interview Skills", "reference", [
        "Learn how to find out what a patron really needs, through open questions and active listening.",
        "The workshop covers in-person, chat and telephone reference, with role plays drawn from public libraries.",
        "Staff who complete it practise follow-up questions and referral to other agencies.",
        "Registration is open to members and non-members of the state association."]),
    ("Library Support Staff Certification", "certification", [
        "The certification program recognises the knowledge and skills of support staff in all types of libraries.",
        "Candidates complete competency sets in foundations, communication and teamwork, and four electives.",
        "Courses approved by the program are offered by community colleges and online providers.",
        "Fees cover the application, the review of portfolios and the final certificate."]),
    ("Serving Teens in the Public Library", "teens", [
        "This webinar series looks at programs, collections and spaces for young adults.",
        "Presenters from urban and rural libraries share ideas for gaming nights, study halls and maker activities.",
        "Recordings are available to registered participants for one year after each session.",
        "A resource list with booklists and program plans accompanies every episode."]),
    ("Digital Preservation Basics", "preservation", [
        "An overview of file formats, checksums, storage and the planning of a digital preservation program.",
        "The course follows the stages of the digital curation lifecycle with examples from small archives.",
        "Participants write a short preservation policy for their own institution as the final task.",
        "Continuing education units are available on request."]),
    ("Copyright for Library Staff", "copyright", [
        "A practical guide to copyright questions that arrive at the circulation and reference desks.",
        "Topics include fair use, interlibrary loan, course reserves, and licences for electronic resources.",
        "The instructor answers questions sent in advance by participants.",
        "Slides and a checklist for common requests are shared after the session."]),
    ("Managing Library Volunteers", "volunteers", [
        "Recruit, train and keep volunteers with the help of proven practices from public and school libraries.",
        "The course discusses job descriptions, scheduling, recognition and the handling of difficult situations.",
        "Templates for application forms and volunteer agreements are included.",
        "It is designed for branch managers and volunteer coordinators."]),
    ("Readers' Advisory for Adults", "readers-advisory", [
        "Connect adult readers with books they will enjoy, using appeal factors and genre knowledge.",
        "Weekly readings and discussions cover mysteries, romance, literary fiction and narrative nonfiction.",
        "Participants build annotated lists and practise conversations about books.",
        "The class meets online for six weeks, with one live session each week."]),
    ("Budgeting for Small Libraries", "budgets", [
        "Plan, present and defend a library budget with confidence.",
        "The session explains line items, capital requests, grants and the cycle of a municipal budget.",
        "Examples come from libraries serving fewer than ten thousand residents.",
        "A spreadsheet template is provided to every participant."]),
    ("Information Literacy Instruction", "infolit", [
        "Design short instruction sessions that teach students to find and evaluate sources.",
        "The course covers learning outcomes, active learning techniques and simple assessment.",
        "Participants prepare a lesson plan and receive feedback from an experienced instructor.",
        "It suits staff in academic and school libraries."]),
    ("Customer Service at the Circulation Desk", "circulation", [
        "Good service starts at the front desk: greeting, policies, fines and difficult conversations.",
        "Scenarios cover holds, lost items, account blocks and requests the desk cannot meet.",
        "The program was developed with front-line staff from several consortia.",
        "Completion counts toward the communication competency of the certification program."]),
    ("Metadata for Digital Collections", "metadata", [
        "Learn Dublin Core and the basics of controlled vocabularies for digitised photographs and documents.",
        "Exercises use an open repository platform and a sample collection of local history images.",
        "The course also covers rights statements and the sharing of records with aggregators.",
        "No previous cataloging experience is required."]),
    ("Grant Writing for Libraries", "grants", [
        "Find funders, write a clear need statement and build a realistic project budget.",
        "The workshop walks through a sample proposal from first idea to final report.",
        "Attendees may submit a draft for review within a month of the workshop.",
        "It is offered twice a year in spring and autumn."]),
    ("Storytime Fundamentals", "storytime", [
        "Plan engaging storytimes for babies, toddlers and preschoolers.",
        "The course covers early literacy practices, songs, rhymes and choosing picture books.",
        "Video examples show storytimes in libraries of different sizes.",
        "A planning worksheet and a song list are included."]),
    ("Technology Troubleshooting for Staff", "tech", [
        "Help patrons with printers, laptops, e-readers and public computers.",
        "Short lessons explain common problems and the questions that reveal their cause quickly.",
        "The course is updated every year as devices and services change.",
        "Participants receive a printable troubleshooting flowchart."]),
    ("Collection Maintenance and Weeding", "weeding", [
        "Keep the collection useful with regular evaluation, mending and weeding.",
        "The course explains the CREW method, circulation reports and how to talk about weeding with the public.",
        "Participants weed one section of their own collection as a practice task.",
        "Maintenance of the collection is part of the technology and collection competency sets."]),
]

# A page mentions these deep in its text; they must not decide anything on a long page.
TRICKY_SENTENCES = [
    "If a title you need cannot be found in the catalog, ask about interlibrary loan.",
    "The online catalog will be down for scheduled maintenance on Sunday morning; the course is not affected.",
    "Log in with your library card number to see your loans.",
    "Error 404 and other web errors are discussed in the technology module.",
    "Students learn what to do when a patron says a page is not found on the library website.",
    "Related searches in the discovery layer help patrons widen a topic.",
    "Parked cars in the library lot must display a permit.",
]

NOT_FOUND = [
    ("en", "Page not found", "The page you requested could not be found. It may have been moved or deleted."),
    ("en", "Oops! That page can't be found.", "It looks like nothing was found at this location. Maybe try a search?"),
    ("en", "404 - File or directory not found.", "The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable."),
    ("en", "Sorry, we couldn't find that page", "We can't find the page you were looking for. Try the search box or go back to the home page."),
    ("en", "Error 404", "The requested URL was not found on this server."),
    ("en", "This page doesn't exist", "The link you followed may be broken, or the page may have been removed."),
    ("en", "Guide Not Found", "The guide you are looking for does not exist or is no longer available."),
    ("en", "Nothing Found", "Sorry, but nothing matched your request. The page you are looking for may no longer exist."),
    ("en", "Item not found", "No item was found matching this identifier."),
    ("en", "Hmm, we can't find that", "We looked everywhere, but the page you tried to reach isn't here any more."),
    ("en", "Page unavailable", "This page is no longer available. Please browse our current offerings."),
    ("en", "Lost?", "We can't seem to find the page you're looking for."),
    ("fr", "Page introuvable", "La page que vous recherchez n'existe pas ou a été déplacée."),
    ("fr", "Erreur 404", "Désolé, la page demandée est introuvable."),
    ("es", "Página no encontrada", "La página que busca no existe o ha sido movida."),
    ("es", "Error 404", "Lo sentimos, no se ha podido encontrar la página solicitada."),
    ("de", "Seite nicht gefunden", "Die angeforderte Seite existiert nicht oder wurde verschoben."),
    ("de", "Fehler 404", "Die gesuchte Seite wurde leider nicht gefunden."),
    ("it", "Pagina non trovata", "La pagina che stai cercando non esiste o è stata spostata."),
    ("pt", "Página não encontrada", "A página que você procura não existe ou foi removida."),
    ("nl", "Pagina niet gevonden", "De opgevraagde pagina bestaat niet of is verplaatst."),
    ("en", "The course you selected is not available", "This course has been removed from the catalogue and is no longer offered."),
    ("en", "Content not found", "The record you requested does not exist."),
    ("en", "We’re sorry — that page is missing", "The page you wanted isn’t here. It may have been retired."),
]

MAINTENANCE = [
    ("Site under maintenance", "We are performing scheduled maintenance. We'll be back online shortly."),
    ("Down for maintenance", "Our website is down for maintenance. Please check back in an hour."),
    ("Briefly unavailable", "Briefly unavailable for scheduled maintenance. Check back in a minute."),
    ("Service Unavailable", "The service is temporarily unavailable due to an upgrade in progress."),
    ("We'll be right back", "This site is currently undergoing planned maintenance and will return soon."),
    ("Maintenance mode", "Site is in maintenance mode. Thank you for your patience."),
    ("Temporarily offline", "The learning platform is temporarily offline while we install updates."),
    ("Site en maintenance", "Le site est en cours de maintenance. Merci de revenir plus tard."),
    ("Sitio en mantenimiento", "Estamos en mantenimiento programado. Volveremos pronto."),
    ("Wartungsarbeiten", "Wegen Wartungsarbeiten ist diese Seite vorübergehend nicht erreichbar."),
    ("Upgrade in progress", "The catalog is closed for an upgrade. Back soon!"),
    ("System maintenance", "Essential system maintenance is under way; services will resume this evening."),
]

LOGIN = [
    ("Log in to the site", "Username", "Password", "Log in", "Forgotten your username or password?"),
    ("Sign In", "Email address", "Password", "Sign in", "Need an account? Register."),
    ("Library Login", "Library card number", "PIN", "Log in", "Use the barcode on the back of your card."),
    ("EZproxy login", "Username", "Password", "Login", "Off-campus access to licensed resources requires a login."),
    ("Web Login Service", "NetID", "Password", "Login", "Single sign-on for university services."),
    ("Members only", "Member ID", "Password", "Sign in", "This content is available to association members. Please sign in."),
    ("Connexion", "Identifiant", "Mot de passe", "Se connecter", "Accès réservé aux membres."),
    ("Authentication required", "User name", "Passcode", "Continue", "Sign in with your institutional account."),
    ("LibApps Login", "Email", "Password", "Log In", "Login to LibApps to edit this guide."),
    ("Iniciar sesión", "Usuario", "Contraseña", "Entrar", "Acceso restringido a miembros."),
]

# (service, markup) — parking pages in the style of several services and registrars.
PARKED = [
    ("sedo", '<div class="domain">{domain}</div><p>This domain may be for sale!</p><p><a href="https://sedo.com/search/details/?domain={domain}">Buy this domain</a></p><div class="rs"><h2>Related Searches</h2><ul><li><a href="/?q=online+courses">Online Courses</a></li><li><a href="/?q=library+jobs">Library Jobs</a></li></ul></div><script src="https://img.sedoparking.com/templates/js/caf.js"></script>'),
    ("parkingcrew", '<h1>{domain}</h1><div id="related"><h2>Related Links</h2><a href="/search?q=certification">Certification</a><a href="/search?q=training">Training Programs</a></div><script src="//www.parkingcrew.net/scripts/caf.js"></script>'),
    ("bodis", '<div class="container"><h1>{domain}</h1><p>Sponsored Listings</p><ul><li>Education Degrees</li><li>Online Classes</li></ul><p>The domain owner may be interested in selling it.</p><script src="https://www.bodis.com/js/park.js"></script></div>'),
    ("godaddy", '<h1>{domain}</h1><p>This domain is parked free, courtesy of GoDaddy.com.</p><p><a href="https://www.godaddy.com/domainsearch/find?domainToCheck={domain}">Get This Domain</a></p><img src="https://img1.wsimg.com/parking/lander.png">'),
    ("namecheap", '<h1>{domain}</h1><p>This domain is registered at Namecheap</p><p>This domain was recently registered at <a href="https://www.namecheap.com/domains/">Namecheap</a>. Please check back later!</p><p>This domain is parked free of charge with NameCheap.com.</p>'),
    ("dan", '<h1>The domain name {domain} is for sale</h1><p>Make an offer on this domain.</p><a href="https://dan.com/buy-domain/{domain}">Buy now</a><p>Secure checkout. Fast transfer.</p>'),
    ("hugedomains", '<h1>{domain} is for sale!</h1><p>Buy this domain. Own it today for $2,995, or select Lease to Own.</p><p><a href="https://www.hugedomains.com/domain_profile.cfm?d={domain}">HugeDomains.com</a></p>'),
    ("afternic", '<h1>{domain}</h1><p>This domain name is for sale.</p><p>Inquire about this domain on <a href="https://www.afternic.com/forsale/{domain}">Afternic</a>.</p>'),
    ("expired", '<h1>{domain}</h1><p>This domain has expired.</p><p>If you are the registrant, please <a href="https://www.registrar.example/renew">renew this domain</a> to restore your website.</p><p>Domain registration by Registrar Example.</p>'),
    ("porkbun", '<h1>{domain}</h1><p>This domain is parked by Porkbun.</p><p>Is this your domain? Log in to your account to set up a website.</p><a href="https://porkbun.com/market/{domain}">View in marketplace</a>'),
    ("dynadot", '<h1>{domain}</h1><p>This domain may be for sale. <a href="https://www.dynadot.com/market/user-listings/{domain}">Make an offer</a></p><p>Registered with Dynadot</p>'),
    ("adsense", '<div id="relatedsearches"><h2>Related searches</h2><p>Continuing Education</p><p>Library Science Degree</p></div><script src="https://www.google.com/adsense/domains/caf.js"></script><p>{domain}</p>'),
    ("sedo-de", '<div class="domain">{domain}</div><p>Diese Domain steht zum Verkauf!</p><a href="https://sedo.com/de/details/?domain={domain}">Domain kaufen</a><script src="https://img.sedoparking.com/js/caf.js"></script>'),
    ("fr-registrar", '<h1>{domain}</h1><p>Ce domaine est à vendre.</p><p>Faites une offre auprès de notre service de revente.</p><p>Domain registration: Gandi</p>'),
]

STUBS = [
    ('<meta http-equiv="refresh" content="0; url={target}">', "Redirecting…", '<p>If you are not redirected, <a href="{target}">click here</a>.</p>'),
    ('<meta http-equiv="refresh" content="0;URL=\'{target}\'">', "Moved", '<p>This page has moved.</p>'),
    ('<script>window.location.replace("{target}");</script>', "Redirect", '<p>Please wait while we take you to the new page.</p>'),
    ('<meta http-equiv="Refresh" content="2; URL={target}">', "Page moved", '<p>The training catalog has a new home. You will be redirected in two seconds.</p>'),
    ('<script type="text/javascript">window.location.href = "{target}";</script>', "", '<noscript><a href="{target}">Continue</a></noscript>'),
    ('<script>location.href=\'{target}\'</script><meta http-equiv="refresh" content="1;url={target}">', "Weitergeleitet", '<p>Sie werden weitergeleitet.</p>'),
    ('<meta http-equiv="refresh" content="0; URL={target}" />', "Redirect notice", '<p>We have moved to a new site.</p>'),
    ('<script>document.location = "{target}";</script>', "New location", '<p>Our courses have moved.</p>'),
]

BANNERS = [
    '<div class="alert alert-warning">The library is closed on Monday for the holiday.</div>',
    '<div class="announcement"><p>New: register for the spring conference today!</p></div>',
    '<div id="cookie-consent" class="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div>',
    '<p class="notice">Updated {date}</p>',
    '<div class="region region-highlighted"><p>Visitors this month: {count}</p></div>',
    '<section class="promo"><p>Giving Tuesday: your gift doubles until midnight.</p></section>',
]

# Hard negatives, written after the rules (their own split, "hard"): working pages that carry a
# class's words where they must not decide. (title, main HTML, chrome HTML)
HARD_OK = [
    ("Routine Maintenance of Library Buildings", "<p>Plan the routine maintenance of roofs, boilers and lifts with a yearly calendar.</p><p>The course shows how small libraries budget for repairs, hire contractors and keep records for insurers.</p><p>It ends with a checklist for the facilities manager.</p>", ""),
    ("Integrated Library System Maintenance", "<p>Keep your ILS healthy: patches, backups, index rebuilds and the yearly upgrade.</p><p>Participants practise on a test server and write a maintenance plan for their consortium.</p>", ""),
    ("Web Domains for Small Libraries", "<p>Choose a domain name, understand domain registration and renew your domain before it expires.</p><p>We compare registrars, explain DNS records and show what happens when a domain has expired and is parked by the registrar.</p><p>Examples come from public libraries that lost their old domain.</p>", ""),
    ("LIS 404: Advanced Reference Sources", "<p>The fourth-year seminar on specialised reference sources: legal, medical and business information.</p><p>Students evaluate databases and write reviews for the guide.</p>", ""),
    ("Course Catalog", "<p>Browse the courses of the spring term.</p><ul><li>Cataloging I</li><li>Reference II</li><li>Digital Preservation</li></ul><p>Search the catalog to find a course; if nothing was found, widen your search.</p>", '<aside class="block block_login"><h2>Log in</h2><form action="/login/index.php" method="post"><input type="text" name="username"><input type="password" name="password"><button>Log in</button></form></aside>'),
    ("Staff Training Portal", "<p>Welcome to the staff training portal. New courses open every month; staff members sign in to track their certificates.</p><p>Guests can read every course description below.</p><ul><li>Storytime Fundamentals</li><li>Copyright for Library Staff</li></ul>", '<header class="site-header"><form class="login-form"><input type="text" name="u"><input type="password" name="p"><button>Sign in</button></form></header>'),
    ("Searching the Discovery Layer", "<p>Related searches in the discovery layer suggest broader and narrower terms.</p><p>Sponsored links never appear in the library's results, unlike a web search engine.</p><p>This lesson compares both with exercises.</p>", ""),
    ("Can't Find It? Interlibrary Loan Explained", "<p>When the catalog has no copy, interlibrary loan brings the book from another library.</p><p>This short course follows a request from the patron's form to the lending library and back, with the costs and timelines staff should explain.</p>", ""),
    ("Dead Link Checking for LibGuides", "<p>Keep guides healthy: run the link checker every month, read its report and fix or remove dead links.</p><p>We compare the built-in checker with free tools and show how to assign broken links to guide owners.</p>", ""),
    ("Planning for Closures", "<p>When the building is temporarily closed, keep services running: curbside pickup, chat reference and e-resources.</p><p>The course covers communication, staffing and what to post on the website while the branch is down for renovation.</p>", ""),
]
