"""The analysts' status narratives (`status/<YYYY-MM>.yml`).

February 2023 is the status memo's own text (PDF artefacts removed) with its
figures replaced by placeholders (data-contract §2), so the pipeline must
recompute them; policy constants (350 boliger, 15.000 kr., 50 pladser) stay
text. Other months from January 2023 carry a short generic text per track
that uses only month-relative placeholders (months before ``start`` get none). ``SKIPPED_MONTHS`` have no file on
purpose: the memo then falls back to the latest earlier file.
"""
from __future__ import annotations

import pandas as pd

MEMO_MONTH = "2023-02"
FIRST_MONTH = "2023-01"
SKIPPED_MONTHS: tuple[str, ...] = ("2023-07", "2024-07", "2025-12")
REFUSION_FROM = "2023-10"

TRACKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Kapacitet af betalbare boliger", (
        "Drejebog for boliger med statsligt tilskud", "Aftale med BL om boliger",
        "Flere af de billige boliger til boligsocial anvisning",
        "Nybyggeri af betalbare boliger, herunder med permanent huslejetilskud")),
    ("Kapacitet af servicelovstilbud - herunder alternative boligformer", (
        "Screening af fysiske rammer ved §110 ift. omlægning til 107-botræning",
        "Undersøgelse af skæve boliger - udvidelse af målgruppe og anvendelse",
        "Undersøge øvrige muligheder for billige boliger")),
    ("Bostøtte og tilstedeværelse i det almene boligområde", (
        "Analyse af behov for §§ 85/99 (CTI, ICM, ACT)", "Private § 110 leverer bostøtte",
        "Boligrådgivere og kontaktpersonsordning", "Boligsocial gadekontakt", "Dialog med ejendomskontoret i hverdagen")),
    ("Sagsbehandling og ydelser - herunder samarbejdet med BIF", (
        "Fastholdelse i egen bolig", "Forbedring af betalingsevne - borgere fra § 110 til egen bolig",
        "Samarbejde mellem Hjemløseenheden og BIF ift. borgere i pilotprojektet og i boliger med statsligt tilskud")),
    ("Pilotprojektet", (
        "Løbende status på udslusningsboliger", "Forbedring af betalingsevne - borgere fra § 110 til egen bolig",
        "Udskrivningsgrunde for alle borgere på §110 (KK-borgere på interne herberg)",
        "Ind- og udskrivninger for gruppen af borgere med mange ophold")),
    ("Inddragelse og samarbejde", (
        "KFUM", "WeShelter (Sporsløjfen)", "WeShelter (Gl. Køge Landevej)", "Mændenes Hjem",
        "Eventuel dialogrunde med herberger uden driftsoverenskomst")),
    ("Økonomi", ("Vurdering af kapacitetsbehov", "Analyse af konsekvenser v. refusionsomlægning")),
)

MEMO_TEXT: tuple[str, ...] = (
    "Københavns Kommune har fået tilsagn fra Bolig- og Planstyrelsen til at give midlertidigt huslejetilskud til op til "
    "350 almene familieboliger i perioden 2022-2023. Antallet af boliger, hvor det midlertidige statslige huslejetilskud "
    "kan anvendes, afhænger dog af, hvor mange boliger som kommunen modtager til boligsocial anvisning i prisklassen "
    "4.500 – 5.000 kr./md i 2023. I {periode@M-1} har Københavns Kommune modtaget {dwellings_received.rent_4500_5000@M-1} "
    "boliger med et huslejeniveau på 4.500-5.000 kr. til boligsocial anvisning. I hele {periode@Y-1} modtog kommunen ca. "
    "{dwellings_received.rent_4500_5000@Y-1} boliger i prisniveauet til boligsocial anvisning. Det forventes, at lidt færre "
    "borgere end normalt vil have mulighed for at fraflytte billige boliger de kommende år grundet inflationen, hvilket kan "
    "betyde, at der vil komme færre ledige boliger i prisklassen til den boligsociale anvisning. Det midlertidige "
    "huslejetilskud er på 15.000 kr. årligt (pl 2021) og kan gives i fire år, hvorefter det nedtrappes med lige store dele "
    "over de efterfølgende fem år. Socialforvaltningen er aktuelt i gang med at identificere boliger og borgere til "
    "projektperioden.\n\n"
    "Forvaltningen og BL har udarbejdet en drejebog for samarbejdet om tilskudsboligerne. Det er dog først muligt at "
    "begynde at anvende det midlertidige huslejetilskud fra 1. marts 2023, bl.a. fordi BL har udfordringer med at få "
    "oplyst det pl-regulerede huslejetilskud for 2023, som skal indgå i huslejekontrakten.\n\n"
    "Forvaltningen har siden sommeren 2022 forhandlet med BL’s 1. kreds om en ny udlejningsaftale. I forhandlingerne har "
    "kommunen og BL arbejdet intenst med at finde løsninger i forhold til at løfte opgaverne i bolig- og hjemløseaftalen. "
    "Der kommer dog ikke en model, som kan skaffe nok billige boliger i det tempo, som bolig- og hjemløseaftalen lægger "
    "op til.\n\n"
    "Derfor har Københavns Kommune udarbejdet et brev til staten med anbefalinger til justeringer af reformen, herunder "
    "ikke mindst indfasningsperioden.\n\n"
    "Der planlægges med, at forhandlingerne om en ny udlejningsaftale kan afsluttes i foråret 2023, således at en ny "
    "aftale kan godkendes i Borgerrepræsentationen medio 2023.\n\n"
    "Med aftalen om Fonden for blandede byer blev der afsat 900 mio. kr. i perioden 2022-2027 til et engangstilskud, til "
    "etablering af særligt billige almene familieboliger i nybyggeri, der stilles til rådighed for boligsocial anvisning. "
    "Forvaltningen vurderer, at det permanente huslejetilskud kan anvendes, hvis en række betingelser er opfyldt. De "
    "billige familieboliger skal f.eks. efter anvendelse af tilskuddet ende på en månedlig husleje på maksimalt 5.000 "
    "kr./md. ekskl. forbrug, og boligerne skal så vidt mulig, spredes i det enkelte byggeri.\n\n"
    "Teknik- og Miljøforvaltningen vurderer, at det permanente huslejetilskud vil sænke den månedlige ydelse i en billig "
    "familiebolig med ca. 900 kr./md. Socialforvaltningen og Teknik- og Miljøforvaltningen har ingen muligheder for at "
    "styre huslejeudviklingen i boligerne undervejs i byggefasen. Det er derfor for nuværende ikke muligt at sikre, at de "
    "nybyggede boliger holdes på en husleje på maks. 5.000 kr./md. ekskl. forbrug.\n\n"
    "Det er en betingelse ved anvendelse af det permanente huslejetilskud, at boligerne anvendes til boligsociale "
    "anvisning. Socialforvaltningen hæfter derfor for eventuel tomgangsleje, når/hvis boligerne ikke benyttes hertil "
    "f.eks. fordi huslejen i byggefasen er blevet for dyr for forvaltningens målgruppe. Forvaltningen er i dialog med "
    "Social- og Boligministeriet, med henblik på at skabe en mulighed for, at Socialforvaltningen kan returnere boliger "
    "opført med det permanente huslejetilskud til boligselskaberne, hvis boligerne bliver for dyre til boligsocial "
    "anvisning.\n\n"
    "Socialforvaltningen er i samarbejde med Teknik- og Miljøforvaltningen, i gang med at vurdere konkrete boligprojekter, "
    "hvor det kan være relevante at opføre familieboliger med permanente huslejetilskud. Hvis der vurderes at være "
    "boligprojekter, hvor der med fordel kan opføres familieboliger med det permanente huslejetilskud, vil de første "
    "ansøgninger til den statslige pulje blive indsendt.",

    "Forvaltningen har udarbejdet en model for gennemgang af herberger ift. at afsøge mulighederne for omlægning fra § 110 "
    "til § 107. Modellen omhandler de fysiske rammer, herunder muligheder ift. etablering af separat indgang, værelsernes "
    "beskaffenhed (køkken, toilet, bad) og økonomi.\n\n"
    "Forvaltningen har brugt modellen til at gennemgå tre kommunale herberger for mulighederne for omlægning. De tre "
    "lokaliteter (Frederikssundsvej, Herbergscentret og Bocentret) har alle potentiale til at blive omlagt til § 107, men "
    "en omlægning vil ikke være uden udfordringer. Det er bl.a. en udfordring at omlægge pladser, før lovgivningen er "
    "endeligt vedtaget. Derudover vil en omlægning kræve, at der er tilgængelige ledige boliger og dermed mulighed for at "
    "skabe flow fra § 107.\n\n"
    "Borgercenter Voksne har aftalt med det selvejende herberg, Gl. Køge Landevej, at foretage en fælles screening for "
    "muligheden for omlægning af nogle af § 110-pladserne til § 107.\n\n"
    "Forvaltningen er i samarbejde med Økonomiforvaltningen i gang med at undersøge, om skæve boliger vil kunne anvendes "
    "på flere måder, end det sker i dag, herunder ved udvidelse af målgruppen og nye måder at bygge på, fx ved at "
    "etablere skæve boliger i højden.\n\n"
    "Forvaltningen har i samarbejde med Økonomiforvaltningen og Teknik- og Miljøforvaltningen undersøgt en række andre "
    "kommuners erfaringer med alternative boformer for at afsøge mulighederne for lignende alternative løsninger i "
    "Københavns Kommune. Her er der bl.a. blevet set på Skurbyen i Aalborg Kommune, Storbylandsbyen og projektet Byg "
    "Udenfor i Aarhus Kommune.",

    "For fortsat at skabe de bedste forudsætninger for at borgere, der kommer fra hjemløshed, kommer til at trives i og "
    "fastholde den anviste bolig, arbejder Københavns Kommune på at styrke og udvide brugen af de forskellige "
    "bostøtteindsatser, særligt Housing First-metoderne, til hjemløse borgere, der anvises til egen almen bolig i "
    "København.\n\n"
    "Der er endvidere påbegyndt en dialogrunde med de selvejende herberger omkring levering af bostøtte, jf. uddybende "
    "beskrivelse nedenfor.\n\n"
    "Der er i forbindelse med forhandlingerne om en ny udlejningsaftale med BL’s 1 kreds stillet forslag om nedsættelse "
    "af et råd, der kan følge de boligsociale anvisninger i den kommende aftaleperiode for 2023-2027.",

    "Forvaltningen har udarbejdet en arbejdsgang for samarbejdet mellem Socialforvaltningen og Beskæftigelses- og "
    "Integrationsforvaltningen ift. borgere i udslusningsboliger og borgere i boliger med midlertidigt statsligt "
    "huslejetilskud. Arbejdsgangen skal sikre, at Beskæftigelses- og Integrationsforvaltningen inddrages i vurderingen "
    "af, om borgers betalingsevne kan øges på sigt samt understøtte, at borgerens indsatser i Socialforvaltningen og "
    "Beskæftigelses- og Integrationsforvaltningen koordineres mhp. at sikre, at borgerens betalingsevne øges over tid "
    "således at borgeren kan fastholde boligen efter endt huslejetilskud.\n\n"
    "Forvaltningen er i samarbejde med Den Tværfaglige Analyseenhed ved at udarbejde en analyse af Housing First "
    "indsatsen CTI herunder ift. om det lykkedes at fastholde de borgere, der modtager CTI-støtte i egen bolig og "
    "udviklingen i borgerens betalingsevne.",

    "Status på pilotprojektet for boliger med midlertidigt kommunalt huslejetilskud (udslusningsboliger) er, at der pr. "
    "{periode@M} er indstillet {pilot_referred} borgere til en bolig med kommunalt huslejetilskud, hvoraf "
    "{pilot_moved_in} af borgerne er flyttet i en bolig. Det forventes, at alle 50 borgere, som kan indgå i "
    "pilotprojektet, er indstillet til en bolig i løbet af foråret 2023.\n\n"
    "I forbindelse med pilotprojektet er der udviklet et forløbsprogram for overgangen fra herberg til permanent bolig, "
    "som afprøves på Bocentret. Forløbsprogrammet skal understøtte tæt samarbejde mellem borger, herbergsmedarbejdere og "
    "myndighedssagsbehandlere, hvor der fra starten af herbergsopholdet er fokus på forløbet frem mod overgang til "
    "permanent bolig. Denne del af pilotprojektet vil give vigtige erfaringer ift. organisering af det fremadrettede "
    "arbejde med at sikre hurtigere stabilisering, udredning og afklaring af borgernes fremtidige boligsituation.\n\n"
    "De foreløbige erfaringer med forløbsprogrammet viser bl.a., at der er potentiale for at opnå et væsentligt tættere "
    "samarbejde mellem udfører og myndighed og derigennem styrke sammenhængen for borgeren og afkorte tiden væsentligt "
    "fra indskrivning på herberg til afklaring og indstilling til bolig.\n\n"
    "Der er gode erfaringer med, at en fremskudt sagsbehandler ugentligt deltager i møder på herberget ift. "
    "beboergennemgang. Det har givet et gensidigt kendskab mellem udfører og myndighed samt muligheder for spontane "
    "samtaler med borger.\n\n"
    "Det anbefales, at forløbsprogrammet fortsætter på Bocentret og der herved indsamles yderligere erfaringer.",

    "Borgercenter Voksne har gennemført en planlagt dialogrunde om den nye lovgivning gennem bilaterale møder med KFUM, "
    "Sporsløjfen og Mændenes Hjem. Dertil har Borgercenter Voksne haft møder med KFUMs herberg på Artillerivej og "
    "Frederiksberg Kommunes herberger, ligesom Borgercenter Voksne har haft dialoger om lovgivningen med Udsatterådet og "
    "Sammenslutningen for Boformer med Hjemløse.\n\n"
    "De centrale konklusioner er, at de selvejende herberger gerne vil levere bostøtte og gerne vil samarbejde med "
    "kommunen om uddannelse/kvalitet, at de er positive over for omlægninger af herbergspladser (særligt når der er "
    "lovgivning og billige boliger), og at de gerne vil arbejde tættere sammen med kommunens sagsbehandlere om udredning "
    "af borgerne. Helt konkret blev det besluttet, at Borgercenter Voksne og Gl. Køge Landevej screener § 110 pladserne "
    "for muligheder for omlægning, ligesom Frederiksberg-herbergerne stillede deres viden om privat bostøtte til "
    "rådighed for udvikling af en kvalitetsmodel.",

    "Forvaltningen har siden efteråret 2022 arbejdet på at kvalificere en prognose over behovet for kapacitet til "
    "hjemløsemålgruppen. Endvidere er forvaltningen i gang med at regne på de forventede meromkostninger ifm. "
    "omlægningen af hjemløseområdet. Beregningerne vil danne baggrund for kommende budgetforslag til hhv. "
    "overførselssagen og Budget 2024. Budgetforslagene vil blive tilpasset eventuelle lovændringer på området.",
)

GENERIC_TEXT: tuple[str, ...] = (
    "I {periode@M} har kommunen modtaget {dwellings_received.rent_4500_5000@M} boliger i prisklassen 4.500-5.000 kr./md. "
    "til boligsocial anvisning, {dwellings_received.rent_lt_4500@M} billigere og {dwellings_received.rent_gt_5000@M} "
    "dyrere boliger. I {periode@M-1} var tallet {dwellings_received.rent_4500_5000@M-1} i prisklassen. Ved udgangen af "
    "{periode@M} er der indflyttet borgere i {subsidised_dwellings_allocated} boliger med midlertidigt statsligt "
    "huslejetilskud (loftet er 350 boliger).",
    "Ved udgangen af {periode@M} er der {shelter_places.110} pladser efter § 110. Screeningen af pladser, der kan omlægges "
    "fra § 110 til § 107, følges løbende.",
    "Ved udgangen af {periode@M} har {support_active.CTI} borgere et aktivt CTI-forløb. Udvidelsen af Housing "
    "First-metoderne til borgere, der anvises fra herberg, fortsætter.",
    "Arbejdsgangen mellem Socialforvaltningen og Beskæftigelses- og Integrationsforvaltningen følges for borgere i "
    "udslusningsboliger og i boliger med midlertidigt statsligt huslejetilskud ({subsidised_dwellings_allocated} "
    "boliger ved udgangen af {periode@M}).",
    "Pr. {periode@M} er {pilot_referred} borgere indstillet til en udslusningsbolig siden pilotprojektets start, hvoraf "
    "{pilot_moved_in} er flyttet i en bolig. I {periode@M} startede {episodes_started} og sluttede {episodes_ended} "
    "herbergsforløb; {frequent_users} borgere har haft mindst tre forløb det seneste år.",
    "Dialogen med de selvejende herberger fortsætter. Ved udgangen af {periode@M} har {persons_in_shelter} borgere et "
    "igangværende herbergsforløb.",
    "Prognosen over kapacitetsbehovet opdateres med tal til og med {periode@M}.",
)
REFUSION_NOTE = (" Den nye refusionsmodel (lov nr. 482 af 12. maj 2023) gælder fra 1. oktober 2023 og indgår i "
                 "beregningen af meromkostningerne.")


# The overview's status word and next step per track (optional fields of the status file): February 2023 as the
# memo's own text says it, later months a generic ongoing status.
MEMO_OVERVIEW: tuple[tuple[str, str], ...] = (
    ("Forsinket", "Tilskuddet kan bruges fra 1. marts 2023; ny udlejningsaftale med BL til godkendelse medio 2023."),
    ("I gang", "Fælles screening af § 110-pladser med Gl. Køge Landevej; afklare skæve boliger med Økonomiforvaltningen."),
    ("I gang", "Dialog med de selvejende herberger om levering af bostøtte fortsætter."),
    ("I gang", "Analysen af CTI-indsatsen og borgernes betalingsevne gøres færdig."),
    ("I gang", "Alle 50 pladser indstillet i løbet af foråret 2023; forløbsprogrammet fortsætter på Bocentret."),
    ("Afsluttet", "Screeningen af § 110-pladser følges op; kvalitetsmodel for privat bostøtte udvikles."),
    ("I gang", "Beregningerne indgår i budgetforslag til overførselssagen og Budget 2024."),
)
GENERIC_OVERVIEW: tuple[tuple[str, str], ...] = (
    ("I gang", "Følge tilgangen af boliger i prisklassen og brugen af tilsagnet."),
    ("I gang", "Omlægning af screenede § 110-pladser til § 107 forberedes."),
    ("I gang", "Udvidelse af Housing First-bostøtte fortsætter."),
    ("I gang", "Opfølgning på betalingsevnen, før tilskuddet trappes ned."),
    ("I gang", "Indstilling til ledige udslusningsboliger fortsætter."),
    ("I gang", "Dialogen med de selvejende herberger fortsætter."),
    ("I gang", "Prognose og meromkostning opdateres til næste budget."),
)

def status(month: str) -> dict:
    """The narrative of one month: the memo's own text for February 2023, the generic text otherwise."""
    texts = list(MEMO_TEXT if month == MEMO_MONTH else GENERIC_TEXT)
    overview = MEMO_OVERVIEW if month == MEMO_MONTH else GENERIC_OVERVIEW
    if month != MEMO_MONTH and month >= REFUSION_FROM:
        texts[6] += REFUSION_NOTE
    return {"spor": [
        {"nr": nr, "titel": title, "delleverancer": list(parts), "status": text,
         "status_kort": short, "naeste_skridt": step}
        for nr, ((title, parts), text, (short, step)) in enumerate(zip(TRACKS, texts, overview), start=1)
    ]}


def months(start: str, end: str) -> list[str]:
    """The months that get a narrative file: January 2023 (or ``start``) to ``end``, minus the skipped ones."""
    first = max(FIRST_MONTH, start)
    if end < first:
        return []
    every = pd.period_range(first, end, freq="M").strftime("%Y-%m")
    return [m for m in every if m not in SKIPPED_MONTHS]
