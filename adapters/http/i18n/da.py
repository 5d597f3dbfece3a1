"""Danish, the default language: English msgid -> Danish text, one entry per sentence a caller can read.

Keep the placeholders' names and conversions ({offer_id}, {text!r:.40}); dates and times in them are
formatted by the edge ("7. december 2026 kl. 14.30"). New English messages in code: run
`python -m adapters.http.i18n.missing`, paste its lines below and write the Danish.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # Problem titles (adapters/http/problems.py TITLES)
    "Bad request": "Ugyldig forespørgsel",
    "Not authenticated": "Ikke logget ind",
    "Not permitted": "Ikke tilladt",
    "Not found": "Ikke fundet",
    "Method not allowed": "Metoden er ikke tilladt",
    "Conflict with the current state": "I strid med den aktuelle tilstand",
    "Gone": "Findes ikke længere",
    "Precondition failed": "Forudsætningen holder ikke",
    "Content too large": "Indholdet er for stort",
    "Invalid input": "Ugyldige oplysninger",
    "Precondition required": "Forudsætning påkrævet",
    "Internal server error": "Intern serverfejl",
    "Store unavailable": "Datalageret svarer ikke",
    "Error": "Fejl",
    # Starlette's own details (routing, methods)
    "Not Found": "Ikke fundet",
    "Method Not Allowed": "Metoden er ikke tilladt",
    # The edge's own problems (adapters/http/problems.py)
    "The node's store is unavailable; try again shortly": "Nodens datalager svarer ikke; prøv igen om lidt",
    "The node failed to answer this request; quote error id {error_id} to its operator": (
        "Noden kunne ikke besvare forespørgslen; oplys fejl-id {error_id} til nodens driftsansvarlige"
    ),
    " (override rule '{rule}' with a reason to proceed)": (
        " (tilsidesæt reglen '{rule}' med en begrundelse for at fortsætte)"
    ),
    "The request is invalid": "Forespørgslen er ugyldig",
    # Words that sentences name as values ({role}, {kind}, {step}, {status}, {what}, {ownership}, ...)
    "rehousing_consultant": "genhusningskonsulent",
    "bridge_builder": "brobygger",
    "daycare_allocator": "pladsanviser",
    "department_caseworker": "sagsbehandler",
    "coordinator": "koordinator",
    "civil_actor": "civilsamfundsaktør",
    "auditor": "revisor",
    "operator": "driftsansvarlig",
    "referral": "henvisning",
    "vacancy": "ledig bolig",
    "household": "husstand",
    "support_link": "støtteforbindelse",
    "owner": "ejer",
    "receiver": "modtager",
    "referrer": "henviser",
    "party": "part",
    "open": "ledig",
    "reserved": "reserveret",
    "let": "udlejet",
    "withdrawn": "trukket tilbage",
    "live": "aktivt",
    "accepted": "accepteret",
    "declined_by_household": "afslået af husstanden",
    "declined_by_provider": "afslået af udbyderen",
    "expired": "udløbet",
    "requested": "anmodet",
    "refused": "afvist",
    "proposed": "foreslået",
    "active": "aktiv",
    "ended": "afsluttet",
    "sent": "sendt",
    "acknowledged": "kvitteret for",
    "in progress": "i gang",
    "on hold": "sat i bero",
    "declined by receiver": "afvist af modtageren",
    "declined by household": "afslået af husstanden",
    "completed": "fuldført",
    "entered in error": "registreret ved en fejl",
    "accept": "acceptere",
    "acknowledge": "kvittere for",
    "complete": "fuldføre",
    "decline": "afvise",
    "put on hold": "sætte i bero",
    "redirect": "omdirigere",
    "start": "påbegynde",
    "withdraw": "trække tilbage",
    "mark as entered in error": "markere som registreret ved en fejl",
    "declined by the household": "afslået af husstanden",
    "declined by the receiver": "afvist af modtageren",
    "marked as entered in error": "markeret som registreret ved en fejl",
    "redirected": "omdirigeret",
    "sent again": "sendt igen",
    "started": "påbegyndt",
    "reason": "begrundelse",
    "The consent": "Samtykket",
    "The date available from": "Datoen for ledig fra",
    "The date needed from": "Datoen for behov fra",
    "The follow-up visit": "Opfølgningsbesøget",
    "The moving day": "Flyttedagen",
    "The start date": "Startdatoen",
    "The termination date": "Opsigelsesdatoen",
    "area explored": "udforsket område",
    "legal basis": "hjemmel",
    "vacancies": "ledige boliger",
    "referrals": "henvisninger",
    "households": "husstande",
    # Domain and edge errors (the sentences in code, alphabetically by English)
    "A referral's times must carry a time zone; the domain never guesses one": (
        "En henvisnings tidspunkter skal have en tidszone; systemet gætter aldrig på en"
    ),
    "A refusal of {reporter}'s report reached {organisation}": (
        "En afvisning af {reporter}s indberetning nåede {organisation}"
    ),
    "A step at {at} is dated before the referral's last step at {last_step_at}": (
        "Et skridt {at} er dateret før henvisningens seneste skridt {last_step_at}"
    ),
    "Give either the household's consent or a legal basis, not both": (
        "Angiv enten husstandens samtykke eller en hjemmel, ikke begge"
    ),
    "Household {household_id} is {owner}'s, not {household_owner}'s": (
        "Husstand {household_id} tilhører {owner}, ikke {household_owner}"
    ),
    "Only {owner}'s data-protection role erases the households {owner} owns": (
        "Kun {owner}s databeskyttelsesrolle sletter de husstande, {owner} ejer"
    ),
    "Sharing the household's data with {receiver} needs its consent or a legal basis": (
        "Deling af husstandens oplysninger med {receiver} kræver samtykke eller hjemmel"
    ),
    "The bearer token's signature is not {issuer}'s": "Tokenets signatur er ikke {issuer}s",
    "The node's store does not answer ({error}); try again shortly": (
        "Nodens datalager svarer ikke ({error}); prøv igen om lidt"
    ),
    "The token must name a person (sub) acting in a person's role": (
        "Tokenet skal navngive en person (sub), der handler i en persons rolle"
    ),
    "The token's issuer {issuer!r} is not an organisation this node trusts": (
        "Tokenets udsteder {issuer!r} er ikke en organisation, som denne node har tillid til"
    ),
    "The token's org claim {org!r} is not its issuer {issuer!r}": (
        "Tokenets org-claim {org!r} er ikke dets udsteder {issuer!r}"
    ),
    "The token's role {role!r} is not a role": "Tokenets rolle {role!r} er ikke en rolle",
    "Vacancy {id} is {owner}'s and only mirrored by {organisation}{hint}": (
        "Den ledige bolig {id} tilhører {owner} og spejles kun af {organisation}{hint}"
    ),
    "Vacancy {vacancy_id} is {organisation}'s own; make the offer directly": (
        "Den ledige bolig {vacancy_id} er {organisation}s egen; giv tilbuddet direkte"
    ),
    "Vacancy {vacancy_id} is {organisation}'s own; only its node changes it": (
        "Den ledige bolig {vacancy_id} er {organisation}s egen; kun dens node ændrer den"
    ),
    "Vacancy {vacancy_id} is {owner}'s; ask its owner to reserve it": (
        "Den ledige bolig {vacancy_id} tilhører {owner}; bed ejeren om at reservere den"
    ),
    "Vacancy {vacancy_id} is {owner}'s; {organisation} only mirrors it": (
        "Den ledige bolig {vacancy_id} tilhører {owner}; {organisation} spejler den kun"
    ),
    "cpr_digest looks like a CPR number; pass the application's digest of it": (
        "cpr_digest ligner et CPR-nummer; angiv systemets digest af det"
    ),
    "header.X-Purpose: reading a let dwelling's address needs a purpose of 3 or more characters": (
        "header.X-Purpose: at læse en udlejet bolig adresse kræver et formål på mindst 3 tegn"
    ),
    "{organisation} is not in the network of household {household_id} as {node}'s node knows it": (
        "{organisation} er ikke i husstand {household_id}s netværk, som {node}s node kender det"
    ),
    "{organisation} is not in the network of household {household_id}: name the household's owner "
    "(household_owner) to link it": (
        "{organisation} er ikke i husstand {household_id}s netværk: angiv husstandens ejer (household_owner)"
        " for at knytte den"
    ),
    "{organisation} is not the {ownership} of {kind} {id} ({whose}'s)": (
        "{organisation} er ikke {ownership} af {kind} {id} ({whose}s)"
    ),
    "{organisation} keeps its own households' networks; it takes no copy": (
        "{organisation} fører selv sine husstandes netværk; den modtager ingen kopi"
    ),
    "{organisation} reads household {household_id}'s network at its own node or its owner's, not here": (
        "{organisation} læser husstand {household_id}s netværk på sin egen node eller ejerens, ikke her"
    ),
    "{organisation}'s node has no read models attached": "{organisation}s node har ingen læsemodeller tilknyttet",
    "{organisation}'s node keeps no {what}": "{organisation}s node fører ingen {what}",
    "{organisation}'s node sends no sealed fields": "{organisation}s node sender ingen forseglede felter",
    "{owner} does not share household {household_id}'s key with {requester}": (
        "{owner} deler ikke nøglen til husstand {household_id} med {requester}"
    ),
    "{reported_by}'s own facts are in its own history, not kept as shared": (
        "{reported_by}s egne oplysninger står i dens egen historik og gemmes ikke som delte"
    ),
    "A consent must name its recipient and purpose ({field}.purpose), not the erased stand-in": (
        "Et samtykke skal angive modtager og formål ({field}.purpose), ikke den slettede pladsholder"
    ),
    "A count cannot be negative, got {count}": "Et antal kan ikke være negativt, fik {count}",
    "A daycare fast-track referral needs {missing}": "En hurtig henvisning til dagtilbud kræver {missing}",
    "exactly one child (got {count})": "præcis ét barn (fik {count})",
    "the date the place is needed from": "datoen, pladsen skal bruges fra",
    "the new address's area": "den nye adresses område",
    "A daycare referral names the child it is for in child_id": (
        "En henvisning til dagtilbud angiver i child_id det barn, den gælder"
    ),
    "A daycare referral names one child of the household; {child_id!r} is not one": (
        "En henvisning til dagtilbud angiver ét af husstandens børn; {child_id!r} er ikke et af dem"
    ),
    "A declined offer says who declined it": "Et afslået tilbud skal angive, hvem der afslog det",
    "A follow-up visit on {visited_on} is before the move on {moved_on}": (
        "Et opfølgningsbesøg {visited_on} ligger før flytningen {moved_on}"
    ),
    "A handoff to {pending} is pending; it must be acknowledged first": (
        "En overdragelse til {pending} afventer; der skal først kvitteres for den"
    ),
    "A household needs a case reference": "En husstand skal have et sagsnummer",
    "A household needs at least one adult member": "En husstand skal have mindst én voksen",
    "A move on {moved_on} cannot come before the move on {earlier}": (
        "En flytning {moved_on} kan ikke komme før flytningen {earlier}"
    ),
    "A referral cannot be answered before it was issued ({seconds} s)": (
        "En henvisning kan ikke besvares, før den er sendt ({seconds} s)"
    ),
    "A referral goes to another organisation; {organisation} cannot refer to {receiver!r}": (
        "En henvisning går til en anden organisation; {organisation} kan ikke henvise til {receiver!r}"
    ),
    "A referral to {to} reached {node}": "En henvisning til {to} nåede {node}",
    "A snapshot of {originator_id} is of an erased household": (
        "Et øjebliksbillede af {originator_id} er af en slettet husstand"
    ),
    "A {kind} fact needs {missing}": "En oplysning om {kind} kræver {missing}",
    "A {role} may not do this": "En {role} må ikke gøre dette",
    "A {role} may not {operation}": "En {role} må ikke {operation}",
    "A {what} of 3 to 2000 characters is required, got {text!r:.40}": (
        "Der kræves en {what} på 3 til 2000 tegn, fik {text!r:.40}"
    ),
    "An Authorization: Bearer token is required": "Der kræves et Authorization: Bearer-token",
    "An accepted referral needs an assignee": "En accepteret henvisning skal have en ansvarlig",
    "An as-of moment needs a time zone, e.g. 2026-03-01T12:00+01:00": (
        "Et tidspunkt skal have en tidszone, f.eks. 2026-03-01T12:00+01:00"
    ),
    "An offer may be open for at most {days} days; expires_at {expires_at} is later": (
        "Et tilbud må højst stå åbent i {days} dage; expires_at {expires_at} er senere"
    ),
    "An offer must expire after it is made": "Et tilbud skal udløbe efter, at det er givet",
    "At least one {what} is required": "Der kræves mindst én {what}",
    "Bridge building for household {case_reference} has already started": (
        "Brobygningen for husstand {case_reference} er allerede begyndt"
    ),
    "Command id {command_id} was already used for a different {command} command": (
        "Kommando-id {command_id} er allerede brugt til en anden {command}-kommando"
    ),
    "Contact person link {link_id} is already active": "Kontaktpersonforbindelsen {link_id} er allerede aktiv",
    "First contact with household {case_reference} was already recorded": (
        "Første kontakt med husstand {case_reference} er allerede registreret"
    ),
    "Give either a moment or a version": "Angiv enten et tidspunkt eller en version",
    "Household {case_reference} has already moved permanently": (
        "Husstand {case_reference} er allerede flyttet permanent"
    ),
    "Household {case_reference} has moved permanently; tours come before": (
        "Husstand {case_reference} er flyttet permanent; fremvisninger kommer før"
    ),
    "Household {case_reference} has no active contact person {link_id}": (
        "Husstand {case_reference} har ingen aktiv kontaktperson {link_id}"
    ),
    "Household {case_reference} has no consent for {recipient} to {purpose}": (
        "Husstand {case_reference} har ikke givet samtykke til {recipient} til {purpose}"
    ),
    "Household {case_reference} has no consent to share data with {receiver} for {purpose}": (
        "Husstand {case_reference} har ikke givet samtykke til at dele oplysninger med {receiver} til {purpose}"
    ),
    "Household {case_reference} has not moved; a follow-up visit comes after": (
        "Husstand {case_reference} er ikke flyttet; et opfølgningsbesøg kommer bagefter"
    ),
    "Household {case_reference} has received no offer {offer_id}": (
        "Husstand {case_reference} har ikke modtaget noget tilbud {offer_id}"
    ),
    "Household {case_reference} is already settled": "Husstand {case_reference} er allerede faldet til",
    "Household {case_reference} is handed off at the move, not before": (
        "Husstand {case_reference} overdrages ved flytningen, ikke før"
    ),
    "Household {household_id} was erased at {erased_at}": "Husstand {household_id} blev slettet {erased_at}",
    "Household {household_id} was erased at {organisation}": (
        "Husstand {household_id} blev slettet hos {organisation}"
    ),
    "Household {household_id} was erased; its network with it": (
        "Husstand {household_id} er slettet og dens netværk med den"
    ),
    "Household {household_id} was erased; nothing personal is stored about it": (
        "Husstand {household_id} er slettet; der gemmes intet personligt om den"
    ),
    "Household {id} is already erased or proposed for erasure": (
        "Husstand {id} er allerede slettet eller foreslået til sletning"
    ),
    "Household {id} was erased at {erased_at}": "Husstand {id} blev slettet {erased_at}",
    "Member ids must be unique within the household, got {ids}": (
        "Medlemmernes id'er skal være entydige i husstanden, fik {ids}"
    ),
    "No API URL is configured for {owner} (COORDINATION_PEER_URLS)": (
        "Der er ikke konfigureret en API-adresse for {owner} (COORDINATION_PEER_URLS)"
    ),
    "No aggregate {aggregate_id} is stored at this node": "Intet aggregat {aggregate_id} er gemt på denne node",
    "No erasure of household {household_id} is proposed at {organisation}": (
        "Der er ikke foreslået sletning af husstand {household_id} hos {organisation}"
    ),
    "No fact {fact_id} was reported about household {household_id}": (
        "Ingen oplysning {fact_id} er indberettet om husstand {household_id}"
    ),
    "No handoff under referral {referral_id} is waiting for acknowledgement": (
        "Ingen overdragelse under henvisning {referral_id} venter på kvittering"
    ),
    "No personal fields of household {household_id} were sent to {requester}": (
        "Ingen personoplysninger om husstand {household_id} er sendt til {requester}"
    ),
    "No personal fields of household {household_id} were sent to {to} under the old key": (
        "Ingen personoplysninger om husstand {household_id} er sendt til {to} under den gamle nøgle"
    ),
    "No {what} with id {aggregate_id} at {organisation}": "Ingen {what} med id {aggregate_id} hos {organisation}",
    "Offer {id} does not expire before {expires_at}": "Tilbud {id} udløber først {expires_at}",
    "Offer {id} is {status}; it cannot be {step}": "Tilbud {id} er {status}; det kan ikke {step}",
    "Offer {offer_id} does not expire before {expires_at}": "Tilbud {offer_id} udløber først {expires_at}",
    "Offer {offer_id} does not expire before {offer_expires_at}": (
        "Tilbud {offer_id} udløber først {offer_expires_at}"
    ),
    "Offer {offer_id} expired at {expires_at}; it cannot be accepted": (
        "Tilbud {offer_id} udløb {expires_at}; det kan ikke accepteres"
    ),
    "Offer {offer_id} expired at {offer_expires_at}": "Tilbud {offer_id} udløb {offer_expires_at}",
    "Offer {offer_id} is live; answer it before recording the move": (
        "Tilbud {offer_id} er aktivt; besvar det, før flytningen registreres"
    ),
    "Offer {offer_id} is not the live offer of household {case_reference}": (
        "Tilbud {offer_id} er ikke husstand {case_reference}s aktive tilbud"
    ),
    "Offer {offer_id} is not the live offer on vacancy {id}": (
        "Tilbud {offer_id} er ikke det aktive tilbud på den ledige bolig {id}"
    ),
    "Offer {offer_id} was already received by household {case_reference}": (
        "Tilbud {offer_id} er allerede modtaget af husstand {case_reference}"
    ),
    "Offer {offer_id} was already requested for household {case_reference}": (
        "Tilbud {offer_id} er allerede anmodet for husstand {case_reference}"
    ),
    "Only a coordinator may override a decline of referral {referral}": (
        "Kun en koordinator må tilsidesætte en afvisning af henvisning {referral}"
    ),
    "Only a rehousing consultant may register a household, not a {role}": (
        "Kun en genhusningskonsulent må registrere en husstand, ikke en {role}"
    ),
    "Only the receiver {receiver} may {step} referral {referral}, not {organisation}": (
        "Kun modtageren {receiver} må {step} henvisning {referral}, ikke {organisation}"
    ),
    "Only the referrer {referrer} may {step} referral {referral}, not {organisation}": (
        "Kun henviseren {referrer} må {step} henvisning {referral}, ikke {organisation}"
    ),
    "Only {node} changes or reads this on its own node, not {organisation}": (
        "Kun {node} ændrer eller læser dette på sin egen node, ikke {organisation}"
    ),
    "Only {organisation} may acknowledge this handoff": "Kun {organisation} må kvittere for denne overdragelse",
    "Only {organisation}, which holds the household, may hand it off": (
        "Kun {organisation}, som har husstanden, må overdrage den"
    ),
    "Only {owner} may withdraw vacancy {id}": "Kun {owner} må trække den ledige bolig {id} tilbage",
    "Only {owner}, which owns household {id}, may erase it": "Kun {owner}, som ejer husstand {id}, må slette den",
    "Only {referrer} or {receiver} may record that the household declined referral {referral}; "
    "{organisation} may not": (
        "Kun {referrer} eller {receiver} må registrere, at husstanden afslog henvisning {referral};"
        " {organisation} må ikke"
    ),
    "Referral {referral} can only be redirected to a third organisation, not {to!r}": (
        "Henvisning {referral} kan kun omdirigeres til en tredje organisation, ikke {to!r}"
    ),
    "Referral {referral} is not due until {complete_by}": "Henvisning {referral} forfalder først {complete_by}",
    "Referral {referral} is sent; acknowledge it first": "Henvisning {referral} er sendt; kvittér for den først",
    "Referral {referral} is {words}; it cannot be {step}": "Henvisning {referral} er {words}; den kan ikke {step}",
    "Referral {referral} rests on a legal basis; no consent is taken": (
        "Henvisning {referral} hviler på en hjemmel; der indhentes ikke samtykke"
    ),
    "Support link {id} ended ({end_reason}); it cannot be {step}": (
        "Støtteforbindelsen {id} er afsluttet ({end_reason}); den kan ikke {step}"
    ),
    "Support link {id} is already {status}": "Støtteforbindelsen {id} er allerede {status}",
    "The CPR number is not valid (expected DDMMYY-SSSS with a real birth date)": (
        "CPR-nummeret er ikke gyldigt (forventet DDMMÅÅ-SSSS med en rigtig fødselsdato)"
    ),
    "The bearer token has expired": "Tokenet er udløbet",
    "The bearer token is invalid: {error}": "Tokenet er ugyldigt: {error}",
    "The bearer token is malformed: {error}": "Tokenet er fejlformet: {error}",
    "The bearer token is not addressed to this node ({audience})": (
        "Tokenet er ikke udstedt til denne node ({audience})"
    ),
    "The bearer token lives longer than {hours:.0f} hours (exp - iat); ask your organisation for a "
    "shorter-lived one": (
        "Tokenet gælder længere end {hours:.0f} timer (exp - iat); bed din organisation om et med kortere levetid"
    ),
    "The bearer token must be signed with {algorithm}, not {alg!r}": (
        "Tokenet skal være signeret med {algorithm}, ikke {alg!r}"
    ),
    "The birth month ({field}) {birth_month} is after the current month": (
        "Fødselsmåneden ({field}) {birth_month} ligger efter den aktuelle måned"
    ),
    "The birth month ({field}) {birth_month} is more than {LIFETIME_YEARS} years ago": (
        "Fødselsmåneden ({field}) {birth_month} ligger mere end {LIFETIME_YEARS} år tilbage"
    ),
    "The consent names {recipient}, not the receiver {receiver}": (
        "Samtykket angiver {recipient}, ikke modtageren {receiver}"
    ),
    "The erasure of household {household_id} is proposed already": (
        "Sletning af husstand {household_id} er allerede foreslået"
    ),
    "The erasure of household {household_id} was confirmed already": (
        "Sletning af husstand {household_id} er allerede bekræftet"
    ),
    "The {name} figures did not come within {budget:g} s (the store or the view store is slow or down); "
    "try again shortly": (
        "Tallene for {name} kom ikke inden for {budget:g} s (datalageret eller visningslageret er langsomt"
        " eller nede); prøv igen om lidt"
    ),
    "The {what} {aggregate_id} is at version {version}, not {expected}; reload it and decide again": (
        "{what} {aggregate_id} er i version {version}, ikke {expected}; hent den igen og beslut på ny"
    ),
    "Unknown referral kind {kind!r}": "Ukendt henvisningstype {kind!r}",
    "Vacancy {id} already has a live offer ({live_offer_id}); it must be accepted, declined or expire first": (
        "Den ledige bolig {id} har allerede et aktivt tilbud ({live_offer_id}); det skal først accepteres,"
        " afslås eller udløbe"
    ),
    "Vacancy {id} has a live offer; answer it before withdrawing": (
        "Den ledige bolig {id} har et aktivt tilbud; besvar det, før boligen trækkes tilbage"
    ),
    "Vacancy {id} is {status} and cannot be offered": "Den ledige bolig {id} er {status} og kan ikke tilbydes",
    "Vacancy {id} is {status} and cannot be withdrawn": (
        "Den ledige bolig {id} er {status} og kan ikke trækkes tilbage"
    ),
    "What was sealed for {sealed_for} about household {household_id} opens for {sealed_for} alone, "
    "not for {requester}": (
        "Det, der blev forseglet til {sealed_for} om husstand {household_id}, kan kun åbnes af {sealed_for},"
        " ikke af {requester}"
    ),
    "`at` must be a timezone-aware datetime": "`at` skal være et tidspunkt med tidszone",
    "body: JSON must be encoded in UTF-8 (RFC 8259 §8.1); this body is not": (
        "body: JSON skal være kodet i UTF-8 (RFC 8259 §8.1); det er denne ikke"
    ),
    "command_id must be a UUID, got {kind}": "command_id skal være et UUID, fik {kind}",
    "header.Idempotency-Key: {key} was used for a different request": (
        "header.Idempotency-Key: {key} er brugt til en anden forespørgsel"
    ),
    "header.If-Match: changing {kind} {id} needs the ETag you decided on (it is at {etag})": (
        "header.If-Match: at ændre {kind} {id} kræver det ETag, du traf beslutning ud fra (den er nu på {etag})"
    ),
    'header.If-Match: {if_match!r} is not an ETag like "3"': (
        'header.If-Match: {if_match!r} er ikke et ETag som "3"'
    ),
    "header.If-Match: {tag} is a weak tag and If-Match never matches a weak tag (RFC 9110 §13.1.1); send "
    'the ETag as it was given, e.g. "{strong}"': (
        "header.If-Match: {tag} er et svagt ETag, og If-Match matcher aldrig et svagt ETag (RFC 9110 §13.1.1);"
        ' send ETag som det blev givet, f.eks. "{strong}"'
    ),
    "header.X-Purpose: reading personal data needs a purpose of 3 or more characters": (
        "header.X-Purpose: at læse personoplysninger kræver et formål på mindst 3 tegn"
    ),
    "path.{param}: not a UUID": "path.{param}: ikke et UUID",
    "query.cursor: {cursor!r} is not a cursor of the access log": (
        "query.cursor: {cursor!r} er ikke en markør i adgangsloggen"
    ),
    "query.cursor: {cursor!r} is not a cursor of the pool": (
        "query.cursor: {cursor!r} er ikke en markør i puljen"
    ),
    "query.cursor: {cursor!r} is not a cursor of this list": (
        "query.cursor: {cursor!r} er ikke en markør i denne liste"
    ),
    "query.from: a period is at most ten years": "query.from: en periode er højst ti år",
    "query.from: {first} is after query.to {last}": "query.from: {first} ligger efter query.to {last}",
    "query.from: {start} is after query.to {end}": "query.from: {start} ligger efter query.to {end}",
    "{aggregate_id} did not exist yet at {moment} at this node": (
        "{aggregate_id} fandtes endnu ikke {moment} på denne node"
    ),
    "{aggregate_id} has no version {version} (it is at version {current})": (
        "{aggregate_id} har ingen version {version} (den er i version {current})"
    ),
    "{aggregate_id} is not a {what}": "{aggregate_id} er ikke en {what}",
    "{answering} answered for a fact reported to {owner}": (
        "{answering} svarede på en oplysning, der var indberettet til {owner}"
    ),
    "{command} conflicted with another change to {names}; reload and try again": (
        "{command} kolliderede med en anden ændring af {names}; hent igen og prøv på ny"
    ),
    "{event_type} has sealed fields and this node has no key directory": (
        "{event_type} har forseglede felter, og denne node har intet nøglekatalog"
    ),
    "{event_type} may not go to a {recipient} (no allow-list for it)": (
        "{event_type} må ikke sendes til en {recipient} (ingen tilladelsesliste for den)"
    ),
    "{event_type} to a {recipient} would carry {name}, which it may not get": (
        "{event_type} til en {recipient} ville indeholde {name}, som den ikke må få"
    ),
    "{kind} {id} has no audit view": "{kind} {id} har ingen revisionsvisning",
    "{member_id} is not a child of household {case_reference}": (
        "{member_id} er ikke et barn i husstand {case_reference}"
    ),
    "{node} does not take {command}": "{node} modtager ikke {command}",
    "{organisation} already holds household {case_reference}": "{organisation} har allerede husstand {case_reference}",
    "{organisation} does not own household {household_id}": "{organisation} ejer ikke husstand {household_id}",
    "{organisation} erased no household {household_id}": (
        "{organisation} har ikke slettet nogen husstand {household_id}"
    ),
    "{organisation} has no use for {event_type}": "{organisation} kan ikke bruge {event_type}",
    "{organisation} keeps no network of household {household_id}": (
        "{organisation} fører intet netværk for husstand {household_id}"
    ),
    "{organisation} neither sent nor received {kind} {id}": (
        "{organisation} har hverken sendt eller modtaget {kind} {id}"
    ),
    "{organisation} was not told of the erasure of household {household_id}": (
        "{organisation} fik ikke besked om sletningen af husstand {household_id}"
    ),
    "{org} is no longer in the network of household {household_id}": (
        "{org} er ikke længere i husstand {household_id}s netværk"
    ),
    "{org} is not in the network of household {household_id} (its node has no copy)": (
        "{org} er ikke i husstand {household_id}s netværk (dens node har ingen kopi)"
    ),
    "{owner} keeps its own vacancies, not mirrors of them": (
        "{owner} fører sine egne ledige boliger, ikke spejlinger af dem"
    ),
    "{owner} offers its own vacancies directly; a request goes to another owner": (
        "{owner} tilbyder sine egne ledige boliger direkte; en anmodning går til en anden ejer"
    ),
    "{owner} owns household {household_id}; it records facts on it directly": (
        "{owner} ejer husstand {household_id}; den registrerer oplysninger om den direkte"
    ),
    "{owner} sent {organisation} a network it is not in": "{owner} sendte {organisation} et netværk, den ikke er med i",
    "{person} proposed the erasure of household {household_id}; another person confirms it": (
        "{person} foreslog sletningen af husstand {household_id}; en anden person bekræfter den"
    ),
    "{sender} referred no household {household_id} to {organisation}": (
        "{sender} har ikke henvist nogen husstand {household_id} til {organisation}"
    ),
    "{sender} sent a picture of a household {owner} owns": "{sender} sendte et billede af en husstand, {owner} ejer",
    "{source} spoke for {speaker}": "{source} talte på vegne af {speaker}",
    "{what} ({field}) {value} is after today ({today}); record it once it has happened": (
        "{what} ({field}) {value} ligger efter i dag ({today}); registrér det, når det er sket"
    ),
    "{what} ({field}) {value} is too far ahead: the latest accepted is {latest}": (
        "{what} ({field}) {value} ligger for langt fremme: den seneste, der accepteres, er {latest}"
    ),
    "{what} ({field}) {value} is too far in the past: the earliest accepted is {earliest}": (
        "{what} ({field}) {value} ligger for langt tilbage: den tidligste, der accepteres, er {earliest}"
    ),
    # The domain's values refusing a value (ValueError in a validator: pydantic hands on the text)
    "start must be timezone-aware; the domain never guesses a time zone": (
        "start skal have en tidszone; systemet gætter aldrig på en"
    ),
    "days must not be negative": "antallet af dage må ikke være negativt",
    "child {member_id} needs a birth month": "barnet {member_id} skal have en fødselsmåned",
    "adult {member_id} cannot need school or daycare": (
        "den voksne {member_id} kan ikke have behov for skole eller dagtilbud"
    ),
    "only temporary rehousing has an expected length in months": (
        "kun midlertidig genhusning har en forventet varighed i måneder"
    ),
    "A picture of another household": "Et billede af en anden husstand",
    "a consent's purpose is a kind of referral: one of {value}": (
        "et samtykkes formål er en henvisningstype: en af {value}"
    ),
    "an amount is a number, not true or false": "et beløb er et tal, ikke sand eller falsk",
    "an amount is plain decimal text in ASCII digits, e.g. 5000 or 5000.50": (
        "et beløb skrives som et decimaltal med almindelige cifre, f.eks. 5000 eller 5000.50"
    ),
    # The offer rules' findings (coordination/domain/offer_rules.py)
    "Vacancy has {rooms} rooms; a household of {members} needs at least {smallest} rooms or its previous "
    "{previous}": (
        "Boligen har {rooms} værelser; en husstand på {members} skal have mindst {smallest} værelser eller"
        " sit tidligere antal, {previous}"
    ),
    "Household {case_reference} already has a live offer ({offer_id}, expires {expires_at}); it must be "
    "answered or expire first": (
        "Husstand {case_reference} har allerede et aktivt tilbud ({offer_id}, udløber {expires_at}); det skal"
        " først besvares eller udløbe"
    ),
    "Household {case_reference} has moved permanently and takes no more offers": (
        "Husstand {case_reference} er flyttet permanent og modtager ikke flere tilbud"
    ),
    "Vacancy is in {offered}; permanent rehousing from {wanted} offers a dwelling in {wanted} (§ 86 stk. 2)": (
        "Boligen ligger i {offered}; permanent genhusning fra {wanted} tilbyder en bolig i {wanted}"
        " (§ 86 stk. 2)"
    ),
    "Vacancy is in {offered}; temporary rehousing from {wanted} offers a dwelling in {wanted} (§ 86 a)": (
        "Boligen ligger i {offered}; midlertidig genhusning fra {wanted} tilbyder en bolig i {wanted} (§ 86 a)"
    ),
    "Household has decided on {decided} offers; permanent rehousing allows {allowed}": (
        "Husstanden har taget stilling til {decided} tilbud; permanent genhusning giver {allowed}"
    ),
    "Household has decided on {decided} offers; temporary rehousing allows {allowed}": (
        "Husstanden har taget stilling til {decided} tilbud; midlertidig genhusning giver {allowed}"
    ),
    # The operations dashboard (static/dashboard.html and .js)
    "acknowledgements overdue": "kvitteringer forsinket",
    "acknowledged late": "kvitteret for sent",
    "completions overdue": "afslutninger forsinket",
    "follow-up visits due": "opfølgningsbesøg forfalder",
    "follow-ups overdue": "opfølgninger forsinket",
    "follow-ups done late": "opfølgninger gennemført for sent",
    "receiver owing an acknowledgement": "modtager, der skylder en kvittering",
    "overdue": "forsinket",
    "waiting": "venter",
    "place offered": "plads tilbudt",
    "past guarantee date": "over garantidatoen",
    "median days waiting": "median dages ventetid",
    "max days waiting": "længste ventetid i dage",
    "queue length at each month's end": "kølængde ved hver måneds udgang",
    "open now": "ledige nu",
    "published": "offentliggjort",
    "median days to let": "median dage til udlejning",
    "p90 days to let": "p90 dage til udlejning",
    "open vacancies at each month's end": "ledige boliger ved hver måneds udgang",
    "warnings": "advarsler",
    "overrides": "tilsidesættelser",
    "receiving area": "modtageområde",
    "moved in": "flyttet ind",
    "vulnerable share": "andel udsatte",
    "what": "hvad",
    "lag": "efterslæb",
    "parked": "parkeret",
    "exchange (parked messages)": "udveksling (parkerede beskeder)",
    "pair / kind": "par / type",
    "referrals acknowledged": "henvisninger kvitteret for",
    "as of {time} (node {node}); updates every 10 s": "pr. {time} (node {node}); opdateres hvert 10. sekund",
    "could not load the figures: {error}": "kunne ikke hente tallene: {error}",
    " (open the link with #token=… printed by the demo)": " (åbn linket med #token=…, som demoen udskrev)",
    "Rehousing coordination: operations": "Genhusningskoordinering: drift",
    "Handoffs and rehousing: operations": "Overdragelser og genhusning: drift",
    "Organisation": "Organisation",
    "all": "alle",
    "From": "Fra",
    "To": "Til",
    "loading…": "henter…",
    "Handoff latency: hours from referral to acknowledgement, per pair of organisations": (
        "Overdragelsestid: timer fra henvisning til kvittering, pr. par af organisationer"
    ),
    "percentiles per month of issue:": "percentiler pr. måned for afsendelse:",
    "Handoff latency per referral kind": "Overdragelsestid pr. henvisningstype",
    "Overdue (judged now)": "Forsinket (vurderet nu)",
    "Fast-track daycare queue": "Kø til hurtig dagtilbudsplads",
    "Vacancy pool and time to let": "Puljen af ledige boliger og tid til udlejning",
    "Receiving areas: re-concentration warnings and overrides": (
        "Modtageområder: advarsler om genkoncentration og tilsidesættelser"
    ),
    "Lag and parked messages": "Efterslæb og parkerede beskeder",
    "Latency table (hours)": "Tabel over svartider (timer)",
    # The municipality's picture (static/municipal.html and .js)
    "{from} – {to}, as of {time}": "{from} – {to}, pr. {time}",  # noqa: RUF001 (the page's own dash)
    "Area": "Område",
    "Status": "Status",
    "Placements": "Anvisninger",
    "By organisation": "Pr. organisation",
    "Overridden": "Tilsidesat",
    "Rent before": "Husleje før",
    "Rent after": "Husleje efter",
    "Rent rises": "Huslejestigninger",
    "Outside work/education %": "Uden for arbejde/uddannelse %",
    "Income ratio %": "Indkomstforhold %",
    "Measure": "Mål",
    "Count": "Antal",
    "Offers made": "Tilbud givet",
    "Accepted": "Accepteret",
    "Declined": "Afslået",
    "Expired": "Udløbet",
    "Declined by {who}": "Afslået af {who}",
    "Overrode {rule}": "Tilsidesatte {rule}",
    "Warned {rule}": "Advarede om {rule}",
    "Department": "Forvaltning",
    "Kind": "Type",
    "Referrals": "Henvisninger",
    "p50 ack": "p50 kvittering",
    "p90 ack": "p90 kvittering",
    "p50 accept": "p50 accept",
    "Rehousing coordination: the municipality's picture": "Genhusningskoordinering: kommunens overblik",
    "The municipality's picture": "Kommunens overblik",
    "Municipality": "Kommune",
    "CSV placements": "CSV anvisninger",
    "CSV offers": "CSV tilbud",
    "CSV latency": "CSV svartider",
    "Placements per receiving area and month, every housing organisation, against the area's indicators": (
        "Anvisninger pr. modtageområde og måned, alle boligorganisationer, holdt op mod områdets nøgletal"
    ),
    'Counts of 1 to 4 read "<5"; means and percentiles need 5 or more. No household is in these figures.': (
        'Antal på 1 til 4 vises som "<5"; gennemsnit og percentiler kræver 5 eller flere. Ingen husstand'
        " indgår i disse tal."
    ),
    "Placements per month": "Anvisninger pr. måned",
    "Offers, declines by category, overridden rules": "Tilbud, afslag pr. kategori, tilsidesatte regler",
    "Referral latency per department (hours)": "Svartid på henvisninger pr. forvaltning (timer)",
    # Sentences finished before they reach the edge (kept in stored events), matched by their template
    "{where} received {inflow} rehoused households in the last {months} months; this offer would make "
    "{count}, above the limit of {limit}": (
        "{where} har modtaget {inflow} genhusede husstande de seneste {months} måneder; dette tilbud ville give"
        " {count}, over grænsen på {limit}"
    ),
    "the area": "Området",  # only ever at the start of the inflow warning
    # The waterbed guard's warnings (coordination/domain/waterbed.py), finished sentences in stored events
    "{name}, {residents} residents (list year {list_year}, {source})": (
        "{name}, {residents} beboere (listeår {list_year}, {source})"
    ),
    "{where} is itself a transformation area (§ 61 a stk. 4): a household placed there may have to be rehoused "
    "again": (
        "{where} er selv et omdannelsesområde (§ 61 a stk. 4): en husstand, der placeres der, kan komme til at "
        "skulle genhuses igen"
    ),
    "{where} meets the list criteria of a {list_name} ({law}). {figures}": (
        "{where} opfylder listekriterierne for et {list_name} ({law}). {figures}"
    ),
    "{where} is on the official list as a prevention area (§ 61 b). {figures}": (
        "{where} står på den officielle liste som forebyggelsesområde (§ 61 b). {figures}"
    ),
    "{where} is within {margin} of the list thresholds of a {list_name} ({law}). {figures}.": (
        "{where} er inden for {margin} af listegrænserne for et {list_name} ({law}). {figures}."
    ),
    "{where} is within {margin} of the list thresholds of a {list_name} ({law}). {figures}. And of a {other_name} "
    "({other_law}). {other_figures}.": (
        "{where} er inden for {margin} af listegrænserne for et {list_name} ({law}). {figures}. Og for et "
        "{other_name} ({other_law}). {other_figures}."
    ),
    "Criteria met: {met}": "Opfyldte kriterier: {met}",
    "Criteria met: {met}. Near: {near}": "Opfyldte kriterier: {met}. Tæt på: {near}",
    "Criteria met: {met}. {gate}": "Opfyldte kriterier: {met}. {gate}",
    "Criteria met: {met}. Near: {near}. {gate}": "Opfyldte kriterier: {met}. Tæt på: {near}. {gate}",
    "Non-Western background {share} % (above {limit} %)": "Ikke-vestlig baggrund {share} % (over {limit} %)",
    "none": "ingen",
    "vulnerable area": "udsat boligområde",
    "parallel society": "parallelsamfund",
    "prevention area": "forebyggelsesområde",
    "share of 18-64-year-olds outside work or education {value} % (above {limit} %)": (
        "andel af 18-64-årige uden for arbejde eller uddannelse {value} % (over {limit} %)"
    ),
    "convictions relative to the national rate {value} x (at least {limit} x)": (
        "domfældelser i forhold til landsgennemsnittet {value} x (mindst {limit} x)"
    ),
    "share of 30-59-year-olds with only basic education {value} % (above {limit} %)": (
        "andel af 30-59-årige med kun grundskoleuddannelse {value} % (over {limit} %)"
    ),
    "mean gross income of 15-64-year-olds relative to the region {value} % (below {limit} %)": (
        "gennemsnitlig bruttoindkomst for 15-64-årige i forhold til regionen {value} % (under {limit} %)"
    ),
    "Household {case_reference} is not settled: {gaps}": "Husstand {case_reference} er ikke faldet til: {gaps}",
    # Settlement gaps (coordination/domain/settlement.py, network.py), named in a NotSettled
    "the household has not moved yet": "husstanden er ikke flyttet endnu",
    "child {member_id} is not enrolled in a new {kind}": (
        "barnet {member_id} er ikke indskrevet i {kind} i det nye område"
    ),
    "no active contact person in {where}": "ingen aktiv kontaktperson i {where}",
    "the receiving area": "modtageområdet",
    "practical and economic matters are not recorded as in order": (
        "praktiske og økonomiske forhold er ikke registreret som i orden"
    ),
    "the household still asks for help": "husstanden beder stadig om hjælp",
    "open items: {items}": "åbne punkter: {items}",
    # Words joining the parts of a finished sentence (several relations; open items)
    " and ": " og ",
    # The kinds an open item names (referral kinds, support kinds; underscores read as spaces)
    "bridge building": "brobygning",
    "handoff": "overdragelse",
    "daycare fast track": "hurtigspor til dagtilbud",
    "school change": "skoleskift",
    "jobcentre": "jobcenter",
    "elderly housing": "ældrebolig",
    "financial counselling": "økonomisk rådgivning",
    "social services": "socialforvaltning",
    "citizen service": "borgerservice",
    "health": "sundhed",
    "other": "andet",
    "mentor": "mentor",
    "youth club": "ungdomsklub",
    "homework cafe": "lektiecafé",
    "leisure guide": "fritidsguide",
    "leisure job": "fritidsjob",
    "debt counselling": "gældsrådgivning",
    "association support": "foreningsstøtte",
    "contact person": "kontaktperson",
    "school": "skole",
    "daycare": "dagtilbud",
    # A fact's refusal (coordination/domain/entitlement.py), a finished sentence also sent between nodes
    "{reporter} is not in this household's network: only its members may report {what}": (
        "{reporter} er ikke i husstandens netværk: kun dets medlemmer må indberette {what}"
    ),
    "{reporter} may not report the enrolment of a child its referrals do not name: only {who} may "
    "({reporter} is {relations})": (
        "{reporter} må ikke indberette indskrivningen af et barn, som dens henvisninger ikke nævner: kun {who}"
        " må ({reporter} er {relations})"
    ),
    "{reporter} may not report {what}: only {who} may ({reporter} is {relations})": (
        "{reporter} må ikke indberette {what}: kun {who} må ({reporter} er {relations})"
    ),
    "the household's holder, the receiver of its handoff or the receiver of an open bridge-building referral": (
        "den, der har husstanden, modtageren af dens overdragelse eller modtageren af en åben"
        " brobygningshenvisning"
    ),
    "the household's holder or the receiver of a daycare or school referral naming that child": (
        "den, der har husstanden, eller modtageren af en henvisning til dagtilbud eller skole, der nævner barnet"
    ),
    "a past member only": "kun et tidligere medlem",
    "its owner": "dens ejer",
    "its holder": "den, der har den",
    "the receiver of its handoff": "modtageren af dens overdragelse",
    "the receiver of a referral about it": "modtageren af en henvisning om den",
    "a referrer of it": "en henviser af den",
    "a support provider to it": "en støtteyder for den",
    "child enrolled": "et barns indskrivning",
    "contact person linked": "en tilknyttet kontaktperson",
    "contact person unlinked": "en fjernet kontaktperson",
    "practical matters in order": "praktiske forhold i orden",
    "no longer asks for help": "at husstanden ikke længere beder om hjælp",
    "follow up visit done": "et gennemført opfølgningsbesøg",
    "settled": "at husstanden er faldet til",
    # Merged from main (caseload, reasons, daycare places, erasure): translated when the branches met
    "Household {id} was erased at {organisation} (its owner {owner} keeps the record at /erasures/{id})": (
        "Husstand {id} blev slettet hos {organisation} (ejeren {owner} har registreringen på /erasures/{id})"
    ),
    "Household {id} was erased at {organisation} (its owner keeps the record at /erasures/{id})": (
        "Husstand {id} blev slettet hos {organisation} (ejeren har registreringen på /erasures/{id})"
    ),
    "query.cursor: {cursor!r} is not a cursor of the caseload": (
        "query.cursor: {cursor!r} er ikke en markør i sagsoversigten"
    ),
    "query.termination_from: after termination_to": "query.termination_from: ligger efter termination_to",
    "The household offer {offer_id} was made to is erased": (
        "Husstanden, som tilbud {offer_id} blev givet til, er slettet"
    ),
    "A place offered here is assessed against the institution's intake": (
        "En plads, der tilbydes her, vurderes ud fra institutionens optag"
    ),
    "A reason code is required, one of: {codes}": "Der kræves en begrundelseskode, en af: {codes}",
    "{code!r} is not a reason code for a {reason_for}; one of: {codes}": (
        "{code!r} er ikke en begrundelseskode for {reason_for}; en af: {codes}"
    ),
    "The reason code 'other' needs the reason described in the text": (
        "Begrundelseskoden 'other' kræver, at begrundelsen beskrives i teksten"
    ),
    "A daycare place names its institution": "En dagtilbudsplads skal angive sin institution",
    "A place starts between today and two years from now, not on {starts_on}": (
        "En plads starter mellem i dag og to år frem, ikke {starts_on}"
    ),
    "{priority_reason!r} is not a priority reason; one of: {reasons}": (
        "{priority_reason!r} er ikke en prioriteringsgrund; en af: {reasons}"
    ),
    "The intake assessed is of another institution or year than the place": (
        "Det vurderede optag gælder en anden institution eller et andet år end pladsen"
    ),
    "This place would bring the share of children from the housing areas of dagtilbudsloven § 26 a in "
    "{institution}'s intake for {year} to {share:.0f} %, past {limit} %": (
        "Denne plads ville bringe andelen af børn fra boligområderne i dagtilbudslovens § 26 a i {institution}s"
        " optag for {year} op på {share:.0f} %, over {limit} %"
    ),
    "Referral {referral} is no daycare referral; it is offered no place": (
        "Henvisning {referral} er ikke en dagtilbudshenvisning; der tilbydes ingen plads"
    ),
    "Only {referrer} or {receiver} may record the family's answer to the place of referral {referral}; "
    "{organisation} may not": (
        "Kun {referrer} eller {receiver} må registrere familiens svar på pladsen i henvisning {referral};"
        " {organisation} må ikke"
    ),
    "Referral {referral} has no place offered awaiting the family's answer": (
        "Henvisning {referral} har ingen tilbudt plads, der venter på familiens svar"
    ),
    "Referral {referral} was already offered a place at {institution}; the family must decline it before "
    "another is offered": (
        "Henvisning {referral} har allerede fået tilbudt en plads i {institution}; familien skal afslå den, før"
        " en anden tilbydes"
    ),
    "A referral of kind other needs a description of what it asks for in its note": (
        "En henvisning af typen andet skal beskrive i sin note, hvad den beder om"
    ),
    "accepted by the family": "accepteret af familien",
    "declined by the family": "afslået af familien",
    "household decline": "husstandens afslag",
    "provider decline": "udbyderens afvisning",
    "withdrawal": "tilbagetrækning",
    "hold": "berostillelse",
    "override": "tilsidesættelse",
    # Merged from main (notifications, webhooks, the record kept true, the family's contact)
    "query.cursor: {cursor!r} is not a cursor of the inbox": "query.cursor: {cursor!r} er ikke en markør i indbakken",
    "query.cursor: {cursor!r} is not a cursor of the log": (
        "query.cursor: {cursor!r} er ikke en markør i leveringsloggen"
    ),
    "No webhook {webhook_id} of {organisation} here": "Ingen webhook {webhook_id} tilhørende {organisation} her",
    "No delivery {delivery_id} of webhook {webhook_id}": "Ingen levering {delivery_id} til webhook {webhook_id}",
    "Notification {notification_id} is not addressed to {person}": (
        "Underretning {notification_id} er ikke stilet til {person}"
    ),
    "Notification {notification_id} is not open to escalation": (
        "Underretning {notification_id} kan ikke eskaleres"
    ),
    "Notification {notification_id} escalates from {due}": "Underretning {notification_id} eskaleres fra {due}",
    "Notification {notification_id} was escalated; it is no longer resolved by the timers": (
        "Underretning {notification_id} er eskaleret; den afsluttes ikke længere automatisk"
    ),
    "Notification {notification_id} is already resolved": "Underretning {notification_id} er allerede afsluttet",
    "A notification is read by a person": "En underretning læses af en person",
    "Referral {referral_id} is not addressed to {organisation}": (
        "Henvisning {referral_id} er ikke stilet til {organisation}"
    ),
    "Household {case_reference} is already rehoused permanently": (
        "Husstand {case_reference} er allerede genhuset permanent"
    ),
    "Household {case_reference} is not settled; only a settled one reopens": (
        "Husstand {case_reference} er ikke faldet til; kun en husstand, der er faldet til, kan genåbnes"
    ),
    "Household {case_reference} has not moved by {declined_on}": (
        "Husstand {case_reference} er ikke flyttet senest {declined_on}"
    ),
    "Household {case_reference} is erased": "Husstand {case_reference} er slettet",
    "Only a rehousing consultant or coordinator of {owner}, which owns household {case_reference}, may "
    "change its record": (
        "Kun en genhusningskonsulent eller koordinator hos {owner}, der ejer husstand {case_reference}, må"
        " ændre dens oplysninger"
    ),
    "Only {referrer}, which sent the referral, shares the family's contact": (
        "Kun {referrer}, der sendte henvisningen, deler familiens kontaktoplysninger"
    ),
    "Only {referrer}, which sent the referral, withdraws the family's contact": (
        "Kun {referrer}, der sendte henvisningen, trækker familiens kontaktoplysninger tilbage"
    ),
    "The referral already carries the family's contact details": (
        "Henvisningen indeholder allerede familiens kontaktoplysninger"
    ),
    "Only a daycare referral carries a child's CPR number": (
        "Kun en dagtilbudshenvisning kan indeholde et barns CPR-nummer"
    ),
    "The referral carries nothing shared under a consent for {purpose}": (
        "Henvisningen indeholder intet, der er delt under et samtykke til {purpose}"
    ),
    "a consent's purpose is one of {value}": "et samtykkes formål er et af {value}",
    "contact_details": "kontaktoplysninger",
    "child_cpr": "barnets CPR-nummer",
    # What the API writes beside its codes (adapters/http/i18n/texts.py): notifications, worklist, reasons
    "offer": "tilbud",
    "Referral received": "Henvisning modtaget",
    "Referral {subject_id} was received; acknowledge it by {due}": (
        "Henvisning {subject_id} er modtaget; kvittér for den senest {due}"
    ),
    "Referral {subject_id} was received; acknowledge it": "Henvisning {subject_id} er modtaget; kvittér for den",
    "Acknowledgement overdue": "Kvittering overskredet",
    "Referral {subject_id} was to be acknowledged by {due} and is not": (
        "Der skulle være kvitteret for henvisning {subject_id} senest {due}, og det er ikke sket"
    ),
    "Referral {subject_id} is not acknowledged in time": "Der er ikke kvitteret for henvisning {subject_id} i tide",
    "Referral stalled": "Henvisning gået i stå",
    "Referral {subject_id} has stalled: no new step by {due}": (
        "Henvisning {subject_id} er gået i stå: intet nyt skridt senest {due}"
    ),
    "Referral {subject_id} has stalled: no new step": "Henvisning {subject_id} er gået i stå: intet nyt skridt",
    "Referral overdue": "Henvisning overskredet",
    "Referral {subject_id} was to be completed by {due}": "Henvisning {subject_id} skulle være afsluttet senest {due}",
    "Referral {subject_id} is not completed in time": "Henvisning {subject_id} er ikke afsluttet i tide",
    "Follow-up visit overdue": "Opfølgningsbesøg overskredet",
    "The follow-up visit to household {household_id} was due by {due}": (
        "Opfølgningsbesøget hos husstand {household_id} skulle være gennemført senest {due}"
    ),
    "The follow-up visit to household {household_id} is overdue": (
        "Opfølgningsbesøget hos husstand {household_id} er overskredet"
    ),
    "Offer expiring": "Tilbud udløber",
    "Offer {subject_id} expires on {due}; the household has not answered": (
        "Tilbud {subject_id} udløber den {due}; husstanden har ikke svaret"
    ),
    "Offer {subject_id} expires soon; the household has not answered": (
        "Tilbud {subject_id} udløber snart; husstanden har ikke svaret"
    ),
    "Escalation": "Eskalering",
    "Escalated to the coordinators: the step on {subject} {subject_id} due by {due} is still not taken": (
        "Eskaleret til koordinatorerne: skridtet i {subject} {subject_id}, der skulle tages senest {due}, er stadig "
        "ikke taget"
    ),
    "Escalated to the coordinators: the step on {subject} {subject_id} is still not taken": (
        "Eskaleret til koordinatorerne: skridtet i {subject} {subject_id} er stadig ikke taget"
    ),
    "Acknowledgement owed": "Kvittering mangler",
    "Acknowledge referral {referral_id} by {due}": "Kvittér for henvisning {referral_id} senest {due}",
    "Referral {referral_id} has had no new step; it stalled on {due}": (
        "Henvisning {referral_id} har ikke haft noget nyt skridt; den gik i stå den {due}"
    ),
    "Follow-up visit due": "Opfølgningsbesøg",
    "Visit household {household_id} after its move by {due}": (
        "Besøg husstand {household_id} efter flytningen senest {due}"
    ),
    "Offer expiring soon": "Tilbud udløber snart",
    "Offer {offer_id} to household {household_id} expires on {due}": (
        "Tilbud {offer_id} til husstand {household_id} udløber den {due}"
    ),
    "Lease ending without an accepted offer": "Lejemål ophører uden accepteret tilbud",
    "The lease of household {household_id} ends on {due} and no offer is accepted": (
        "Lejemålet for husstand {household_id} ophører den {due}, og intet tilbud er accepteret"
    ),
    "Permanent offer owed": "Permanent tilbud skyldes",
    "Household {household_id} has had the right to a permanent offer since {due}": (
        "Husstand {household_id} har haft ret til et permanent tilbud siden {due}"
    ),
    "Erasure proposed": "Sletning foreslået",
    "Confirm or reject the proposed erasure of household {household_id} by {due}": (
        "Bekræft eller afvis den foreslåede sletning af husstand {household_id} senest {due}"
    ),
    "Overdue: {text}": "Overskredet: {text}",
    "The rent is too high for the household.": "Huslejen er for høj for husstanden.",
    "The dwelling is in an area the household does not want to live in.": (
        "Boligen ligger i et område, husstanden ikke ønsker at bo i."
    ),
    "It is too far from the children's school or daycare.": "Der er for langt til børnenes skole eller dagtilbud.",
    "It is too far from the household's work or education.": (
        "Der er for langt til husstandens arbejde eller uddannelse."
    ),
    "It is too far from the household's family and network.": "Der er for langt til husstandens familie og netværk.",
    "The dwelling is too small for the household.": "Boligen er for lille til husstanden.",
    "The dwelling does not suit the household's needs (access, floor, layout).": (
        "Boligen passer ikke til husstandens behov (adgang, etage, indretning)."
    ),
    "The household's health does not allow it.": "Husstandens helbred tillader det ikke.",
    "The household has found housing elsewhere.": "Husstanden har fundet bolig andetsteds.",
    "The household wants to wait for another offer.": "Husstanden vil vente på et andet tilbud.",
    "The household does not want the service.": "Husstanden ønsker ikke indsatsen.",
    "The daycare place offered does not suit the family.": "Den tilbudte dagtilbudsplads passer ikke familien.",
    "The household is not eligible for the service or the dwelling.": (
        "Husstanden er ikke berettiget til indsatsen eller boligen."
    ),
    "There is no capacity: the service or programme is full.": (
        "Der er ikke kapacitet: indsatsen eller forløbet er fuldt."
    ),
    "The household could not be reached.": "Husstanden kunne ikke kontaktes.",
    "A member of the household is in hospital.": "Et medlem af husstanden er indlagt.",
    "The referral belongs with another organisation.": "Henvisningen hører til hos en anden organisation.",
    "The dwelling is no longer available.": "Boligen er ikke længere ledig.",
    "A health and safety concern prevents it.": "Hensyn til sikkerhed og sundhed forhindrer det.",
    "The household already receives this help.": "Husstanden får allerede denne hjælp.",
    "The household no longer needs it.": "Husstanden har ikke længere brug for det.",
    "The household moved out of the municipality.": "Husstanden er flyttet fra kommunen.",
    "The household receives the help elsewhere.": "Husstanden får hjælpen andetsteds.",
    "The household withdrew its consent.": "Husstanden har trukket sit samtykke tilbage.",
    "The person the referral was about has died.": "Personen, henvisningen handlede om, er død.",
    "Waiting for the household to answer.": "Venter på husstandens svar.",
    "Waiting for documents or information.": "Venter på dokumenter eller oplysninger.",
    "Waiting for a free place.": "Venter på en ledig plads.",
    "The reason given for the decline does not hold.": "Begrundelsen for afslaget holder ikke.",
    "The household has changed its mind.": "Husstanden har ombestemt sig.",
    "The household's circumstances have changed.": "Husstandens forhold har ændret sig.",
    "The household's need is acute.": "Husstandens behov er akut.",
    "Another reason, described in the text.": "En anden begrundelse, beskrevet i teksten.",
    "No reason code was recorded (the step was recorded before reasons were coded).": (
        "Der blev ikke registreret en begrundelseskode (skridtet blev registreret, før begrundelser fik koder)."
    ),
    # The operations a role may not take ({operation} in "A {role} may not {operation}", authorisation.py POLICY)
    "register household": "registrere en husstand",
    "get household": "læse en husstand",
    "household timeline": "læse husstandens tidslinje",
    "household status": "læse husstandens status",
    "refused reports": "læse afviste indberetninger",
    "suitable vacancies": "finde egnede ledige boliger",
    "record first contact": "registrere første kontakt",
    "record inspiration tour": "registrere en inspirationstur",
    "record tasks found": "registrere fundne opgaver",
    "start bridge building": "starte brobygning",
    "give consent": "registrere et samtykke",
    "withdraw consent": "trække et samtykke tilbage",
    "record enrolment": "registrere en indskrivning",
    "record contact person": "registrere en kontaktperson",
    "end contact person": "afslutte en kontaktperson",
    "record practical matters in order": "registrere praktiske forhold i orden",
    "record no longer asks for help": "registrere, at husstanden ikke længere beder om hjælp",
    "record follow up visit": "registrere et opfølgningsbesøg",
    "settle household": "registrere, at husstanden er faldet til",
    "record move": "registrere en flytning",
    "make offer": "give et tilbud",
    "accept offer": "acceptere et tilbud",
    "decline offer": "afslå et tilbud",
    "amend members": "ændre husstandens medlemmer",
    "amend needs": "ændre husstandens behov",
    "amend preferences": "ændre husstandens ønsker",
    "record contact details": "registrere kontaktoplysninger",
    "make rehousing permanent": "gøre genhusningen permanent",
    "reopen household": "genåbne en husstand",
    "record follow up visit declined": "registrere et afslået opfølgningsbesøg",
    "refer household": "henvise en husstand",
    "proposed referrals": "læse foreslåede henvisninger",
    "publish vacancy": "offentliggøre en ledig bolig",
    "withdraw vacancy": "trække en ledig bolig tilbage",
    "get vacancy": "læse en ledig bolig",
    "search vacancy pool": "søge i puljen af ledige boliger",
    "send referral": "sende en henvisning",
    "get referral": "læse en henvisning",
    "referrals owed": "læse skyldige henvisninger",
    "acknowledge referral": "kvittere for en henvisning",
    "accept referral": "acceptere en henvisning",
    "start referral": "starte en henvisning",
    "put referral on hold": "stille en henvisning i bero",
    "decline referral": "afvise en henvisning",
    "redirect referral": "videresende en henvisning",
    "complete referral": "afslutte en henvisning",
    "withdraw referral": "trække en henvisning tilbage",
    "mark referral entered in error": "markere en henvisning som fejlregistreret",
    "override referral decline": "tilsidesætte afvisningen af en henvisning",
    "offer daycare place": "tilbyde en dagtilbudsplads",
    "accept daycare place": "acceptere en dagtilbudsplads",
    "decline daycare place": "afslå en dagtilbudsplads",
    "propose support link": "foreslå en støtteforbindelse",
    "activate support link": "aktivere en støtteforbindelse",
    "end support link": "afslutte en støtteforbindelse",
    "get support link": "læse en støtteforbindelse",
    "report household fact": "indberette et forhold om husstanden",
    "reported household facts": "læse indberettede forhold",
    "daycare queue": "læse dagtilbudskøen",
    "receiving areas": "læse modtageområderne",
    "municipal picture": "læse kommunens overblik",
    "municipal picture csv": "hente kommunens overblik som CSV",
    "operations": "læse driftsoversigten",
    "access log": "læse adgangsloggen",
    "get exchange key": "hente en udvekslingsnøgle",
    "get recipient exchange key": "hente en modtagers udvekslingsnøgle",
    "get offer request": "læse en tilbudsanmodning",
    "propose household erasure": "foreslå sletning af en husstand",
    "confirm household erasure": "bekræfte sletning af en husstand",
    "list erasures": "se sletninger",
    "get erasure": "læse en sletning",
    "inbox": "læse indbakken",
    "read notification": "markere en underretning som læst",
    "create webhook": "oprette en webhook",
    "list webhooks": "se webhooks",
    "delete webhook": "slette en webhook",
    "webhook deliveries": "læse en webhooks leveringer",
    "replay webhook delivery": "gensende en webhook-levering",
    "replay webhooks": "gensende webhook-leveringer",
    "search households": "søge efter husstande",
    "worklist": "læse arbejdslisten",
}

# Pydantic's validation errors, by error type (the English is pydantic's own message); placeholders are
# the error's context. An error type not here reads "Ugyldig værdi ({type})".
VALIDATION: dict[str, str] = {
    "missing": "Feltet skal udfyldes",
    "extra_forbidden": "Feltet kendes ikke og er ikke tilladt",
    "string_type": "Værdien skal være en tekst",
    "int_type": "Værdien skal være et heltal",
    "int_parsing": "Værdien skal være et heltal",
    "int_from_float": "Værdien skal være et heltal",
    "float_type": "Værdien skal være et tal",
    "float_parsing": "Værdien skal være et tal",
    "decimal_type": "Værdien skal være et decimaltal",
    "decimal_parsing": "Værdien skal være et decimaltal",
    "bool_type": "Værdien skal være sand eller falsk",
    "bool_parsing": "Værdien skal være sand eller falsk",
    "greater_than": "Værdien skal være større end {gt}",
    "greater_than_equal": "Værdien skal være mindst {ge}",
    "less_than": "Værdien skal være mindre end {lt}",
    "less_than_equal": "Værdien må højst være {le}",
    "string_too_short": "Teksten skal have mindst {min_length} tegn",
    "string_too_long": "Teksten må højst have {max_length} tegn",
    "string_pattern_mismatch": "Teksten skal passe til mønsteret {pattern!r}",
    "too_short": "Der skal være mindst {min_length} elementer",
    "too_long": "Der må højst være {max_length} elementer",
    "list_type": "Værdien skal være en liste",
    "dict_type": "Værdien skal være et objekt",
    "model_type": "Værdien skal være et objekt",
    "model_attributes_type": "Værdien skal være et objekt",
    "uuid_type": "Værdien skal være et UUID",
    "uuid_parsing": "Værdien skal være et UUID",
    "date_type": "Værdien skal være en dato (ÅÅÅÅ-MM-DD)",
    "date_parsing": "Værdien skal være en dato (ÅÅÅÅ-MM-DD)",
    "date_from_datetime_parsing": "Værdien skal være en dato (ÅÅÅÅ-MM-DD)",
    "date_from_datetime_inexact": "Værdien skal være en dato uden klokkeslæt",
    "datetime_type": "Værdien skal være et tidspunkt (ISO 8601)",
    "datetime_parsing": "Værdien skal være et tidspunkt (ISO 8601)",
    "datetime_from_date_parsing": "Værdien skal være et tidspunkt (ISO 8601)",
    "timezone_aware": "Tidspunktet skal have en tidszone",
    "timezone_naive": "Tidspunktet må ikke have en tidszone",
    "enum": "Værdien skal være en af {expected}",
    "literal_error": "Værdien skal være {expected}",
    "json_invalid": "Ugyldig JSON",
    "json_type": "Værdien skal være JSON",
    "union_tag_invalid": "Ukendt type {tag!r}; forventet en af {expected_tags}",
    "union_tag_not_found": "Typefeltet {discriminator} mangler",
    "frozen_instance": "Værdien kan ikke ændres",
    "url_parsing": "Værdien skal være en URL",
    "url_type": "Værdien skal være en URL",
    "bytes_type": "Værdien skal være bytes",
    "none_required": "Værdien skal være null",
    "value_error": "Ugyldig værdi: {error}",
    "assertion_error": "Ugyldig værdi: {error}",
}
