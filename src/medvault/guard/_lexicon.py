"""The guard's vocabulary: anatomy and findings in German and English, mapped to shared concept ids.

One table row per concept: `id | kind | German forms | English forms | implied concepts`; an indented
line continues the row above it.

- kind: `A` anatomy, `F` finding (pathology or abnormal sign), `D` device, `N` a statement that an
  organ is normal. Only findings carry negation polarity and count as "new findings"; anatomy and
  devices give minor flags at most; `N` only helps to tell clauses apart.
- forms are lower-case literal stems. German forms match anywhere inside a word, because German
  builds compounds (`Pleuraerguss`, `Unterlappenarterie`), unless they start with `^`. English forms
  must start a word unless they start with `*`. A trailing `#` requires the word to end there.
  Longer forms win over shorter ones at the same position, so `pleuraerguss` beats `pleura`.
- implied: concepts an output may mention when the source mentions this one (broader terms, the organ
  of an organ-specific finding, lay paraphrases); this is what lets simplifications and translations
  use their own vocabulary without being flagged.

The table is general radiology vocabulary, not a copy of the benchmark corpus; extend it freely.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal

Kind = Literal["A", "F", "D", "N"]

_TABLE = """
lung | A | lunge, ^pulmo, ^pulmonal | lung, pulmonary, *pulmonar |
lobe | A | lappen | lobe, lobar |
lower_lobe | A | unterlappen | lower lobe | lobe lung
upper_lobe | A | oberlappen | upper lobe | lobe lung
middle_lobe | A | mittellappen | middle lobe, lingula | lobe lung
lung_zone | A | unterfeld, oberfeld, mittelfeld | lower zone, upper zone, mid zone | lung
pleura | A | pleura, ^zwischen lunge und brustwand | pleura, around the lung, around both lungs | lung
pericardium | A | perikard, herzbeutel | pericardi | heart
heart | A | herz, ^kardi, ^kardial | heart, cardiac, cardio | pericardium
coronary | A | koronar | coronar | heart artery
mediastinum | A | mediastin, brustmitte | mediastin | chest
diaphragm | A | zwerchfell | diaphragm, hemidiaphragm |
airway | A | trachea, luftröhre, ^carina, bronch | trachea, windpipe, carina, bronch |
chest | A | thorax, brustkorb, brustwand, ^thorak | chest, thorax, thorac | lung
rib | A | rippe | rib#, ribs# | chest
clavicle | A | klavikula, schlüsselbein | clavicle, collarbone |
liver | A | leber, ^hepat | liver, hepat | abdomen
gallbladder | A | gallenblase | gallbladder, gall bladder | bile_duct
bile_duct | A | gallengang, gallenweg, ^dhc#, ^choledochus | bile duct, cbd#, biliary | liver gallbladder
pancreas | A | pankreas, bauchspeicheldrüse | pancrea | abdomen
spleen | A | milz | spleen, splen | abdomen
adrenal | A | nebenniere | adrenal |
kidney | A | niere, ^renal, ^nephr, ^perirenal, ^paranephr, ^perinephr, ^pararenal | kidney, renal, nephr,
    perinephric, perirenal, paranephric, pararenal,
    pelvicalyceal | urinary_tract
urinary_tract | A | harnleiter, ^ureter, harnweg, nierenbecken, ^urin, ^harn# | ureter, urinary, urine,
    renal pelvis | kidney
bladder | A | harnblase, ^blase, ^vesikal, ^prävesikal | bladder, vesical, prevesical | urinary_tract
prostate | A | prostata | prostat |
seminal_vesicle | A | samenblase | seminal vesicle |
testis | A | hoden, ^testik, skrotum, hodensack | testi, testes#, testicle, scrot |
uterus | A | uterus, gebärmutter, endometri | uterus, uterine, womb, endometri |
ovary | A | ovar, eierstock | ovar, ovary |
bowel | A | darm, dünndarm, dickdarm, kolon, ^ileum | bowel, intestin, colon, ileum |
rectum | A | rektum, mastdarm, ^rektal, ^mesorekt, ^anal, ^anokutan | rectum, rectal, mesorect, anal#,
    anus |
appendix | A | appendix, appendiz, blinddarm, wurmfortsatz | appendix, append |
stomach | A | magen | stomach, gastric |
abdomen | A | abdomen, bauch, ^abdominal, ^peritoneal, ^intraperitoneal, ^retroperitoneal | abdomen,
    abdominal, belly, peritoneal, intraperitoneal, retroperitoneal |
pelvis | A | becken | pelvis, pelvic |
vessel | A | gefäß, ^vaskulär, blutfluss, blutversorgung, blutstrom | vessel, vascular, blood flow,
    blood supply,
    blood vessel |
aorta | A | aorta, hauptschlagader, ^aorten, ^paraaortal | aort, para-aortic, main artery | artery
artery | A | arterie, schlagader, ^arteria | artery, arteries, arterial | vessel
vein | A | vene, ^vena, ^v.#, ^venös | vein, venous, vena | vessel
carotid | A | karotis, carotis, halsschlagader | carotid, neck arter | artery
iliac | A | iliaca, iliakal, ^iliosakral | iliac, sacroiliac | pelvis
jugular | A | jugular, halsvene | jugular, neck vein | vein
vena_cava | A | cava, hohlvene | vena cava | vein
brain | A | gehirn, ^hirn, ^zerebr, ^intrazerebr, ^cerebr, stammganglien, marklager, weiße substanz,
    ^intraparenchymat | brain, cerebr, intracerebral, basal ganglia, white matter, intraparenchymal,
    cerebell | skull
brain_ventricle | A | ventrikel, hirnkammer, ^intraventrikul, liquorr, hirnwasserr | ventricle,
    intraventricular, fluid chamber, fluid space | brain
skull | A | schädel, kalotte, ^os temporale, schläfenbein, zisterne | skull, cranial, temporal bone,
    cistern | brain
midline | A | mittellinie | midline | brain
spine | A | wirbelsäule, ^lws#, ^hws#, ^bws# | spine, spinal#, lumbar, cervical spine | vertebra
vertebra | A | wirbel, ^lwk, ^hwk, ^bwk | vertebra | spine
disc | A | bandscheibe | disc#, discs#, disk#, disks# | spine
spinal_canal | A | spinalkanal, rückenmarkskanal, neuroforamen, ^foramen | spinal canal, foramin | spine
spinal_cord | A | myelon, rückenmark, ^conus | spinal cord, cord#, conus | spine
nerve | A | nerv, wurzel | nerve, root# | spine
knee | A | knie | knee |
meniscus | A | meniskus | menisc | knee
cruciate_ligament | A | kreuzband, ^vkb#, ^hkb# | cruciate, acl#, pcl# | knee ligament
ligament | A | ^band#, bänder, syndesmose | ligament, syndesmosis |
cartilage | A | knorpel, ^subchondral, labrum | cartilage, subchondral, labrum, labral |
patella | A | patella, kniescheibe, ^retropatellar | patell, kneecap, retropatellar | knee
tibia | A | tibia, schienbein | tibia, shin bone, shinbone |
femur | A | femur, ^femoral, oberschenkel, ^kondylus | femur, femoral, thigh bone, thighbone, condyl |
femoral_head | A | hüftkopf, femurkopf | femoral head | femur hip
femoral_neck | A | schenkelhals | femoral neck | femur hip
hip | A | hüft, ^cox | hip#, hips# | joint pelvis
joint | A | gelenk | joint, articular |
shoulder | A | schulter, ^glenohumeral, glenoid, ^akromioklavikular, ^ac-gelenk, subakromial,
    ^subacromial | shoulder, glenohumeral, glenoid, acromioclavicular, ac joint, subacromial,
    shoulder socket | joint
tendon | A | sehne, rotatorenmanschette | tendon, rotator cuff |
supraspinatus | A | supraspinatus | supraspinatus | tendon shoulder
infraspinatus | A | infraspinatus | infraspinatus | tendon shoulder
subscapularis | A | subscapularis | subscapularis | tendon shoulder
biceps | A | bizeps | biceps | tendon
muscle | A | muskel, muskulatur, faszie | muscle, muscular, fascia |
bursa | A | bursa, schleimbeutel | bursa |
humerus | A | humerus, oberarm | humer, upper arm | shoulder
wrist | A | handgelenk, ^radiokarpal | wrist, radiocarpal | joint
hand | A | ^hand#, mittelhand, ^metakarp, ^finger | hand#, hands#, metacarp, finger |
forearm | A | ^radius, speiche, ^ulna, ^elle#, ^styloid, griffelfortsatz | radius, ulna, styloid |
ankle | A | sprunggelenk, knöchel, ^malleol | ankle, malleol, medial clear space | joint
fibula | A | fibula, wadenbein | fibula | leg
leg | A | ^bein, unterschenkel, ^wade, ^poplite, kniekehle | leg#, legs#, calf, calves, popliteal |
sacrum | A | kreuzbein, sakrum, darmbein, ^sakral | sacrum, sacral, ilium |
thyroid | A | schilddrüse, ^thyreo | thyroid |
lymph_node | A | lymphknoten, ^lymphat, ^axillär, achsel | lymph node, lymphatic, axillary, armpit |
breast | A | mamma, brust#, brustdrüse, mamille, brustwarze | breast, nipple |
neck | A | ^hals#, ^zervikal | neck#, cervical |
soft_tissue | A | weichteil, fettgewebe, ^fett# | soft tissue, fat# |
sinus | A | nasennebenhöhle, ^sinus#, ^ostiomeatal | sinus#, sinuses#, paranasal, ostiomeatal |
mucosa | A | schleimhaut | mucosa, mucosal |
maxillary_sinus | A | kieferhöhle, ^sinus maxillaris, ^maxillaris, ^maxillär | maxillary, antrum, antral |
    sinus
frontal_sinus | A | stirnhöhle, ^sinus frontalis | frontal sinus | sinus
sphenoid_sinus | A | keilbeinhöhle, ^sinus sphenoidalis | sphenoid sinus | sinus
ethmoid | A | siebbein | ethmoid | sinus
nasal_septum | A | ^septum, nasenscheidewand, ^nasenseptum | nasal septum, septum, septal |
elbow | A | ellenbogen, ^kubital, ^cubital | elbow, cubital | joint
olecranon | A | olekranon, ellenhaken | olecranon | elbow
coronoid | A | ^processus coronoideus, kronenfortsatz | coronoid | elbow
radial_head | A | radiusköpfchen, speichenköpfchen, ^köpfchen der speiche | radial head, head of the radius |
    elbow forearm
catheter | D | katheter, ^zvk | catheter, central line, line#, lines#, cvc# | vein
tube | D | ^sonde, ^magensonde, tubus, drainage, ^clip | tube#, tubes#, drain#, clip |
contrast | D | kontrastmittel, ^nativ# | contrast#, gadolinium | enhancement
effusion | F | erguss, ergüss, flüssigkeitsansammlung, flüssigkeit, ^wasser#, wasseransammlung | effusion,
    fluid collection, fluid, water# |
pleural_effusion | F | pleuraerguss, pleuraergüss | pleural effusion | effusion pleura
pericardial_effusion | F | perikarderguss, perikardergüss | pericardial effusion | effusion pericardium
joint_effusion | F | gelenkerguss, gelenkergüss | joint effusion | effusion joint
free_fluid | F | freie flüssigkeit, freier flüssigkeit, ^perichol, ^perirenale flüssigkeit | free fluid,
    pericholecystic fluid, perinephric fluid | effusion
ascites | F | aszites, ^wasser im bauch | ascites | effusion free_fluid abdomen
pneumothorax | F | pneumothorax, ^luft außerhalb der lunge, ^luft um die lunge,
    ^luft zwischen lunge und brustwand |
    pneumothorax, air outside the lung, air around the lung, collapsed lung | lung pleura
free_air | F | freie luft, freier luft, ^freie intraperitoneale luft, ^intraperitoneale luft,
    ^pneumoperitoneum | free air, free intraperitoneal air, pneumoperitoneum | abdomen
pneumonia | F | pneumonie, lungenentzündung, ^pneumonisch, ^parapneumonisch | pneumonia, pneumonic,
    parapneumonic | lung inflammation infection infiltrate opacity
infiltrate | F | infiltrat, konsolidierung, ^konsolidat, verdichtung, verdichtet | infiltrate, consolidat,
    airspace disease | opacity lung infection
opacity | F | verschattung, ^verschattet, transparenzminderung, ^schatten | opacit, opacif, shadow | lung
inflammation | F | entzündung, entzündet, ^entzündlich, ^bursitis, itis# | inflammation, inflamed,
    inflammatory, bursitis, *itis# | swelling
infection | F | infektion, ^infekt | infection, infected | inflammation
atelectasis | F | atelektase, dystelektase, ^schlecht belüftet | atelectasis, atelectatic, poorly aerated,
    collapsed | lung
emphysema | F | emphysem | emphysema |
fibrosis | F | fibrose | fibrosis |
congestion | F | ^stauung, lungenstauung, ^gestaut, ^staut | congestion, congested, backing up, backup |
oedema | F | ödem | oedema, edema, oedematous, edematous | swelling
bone_marrow_oedema | F | knochenmarködem, knochenödem | bone marrow oedema, bone marrow edema, bone bruise,
    bone contusion | oedema swelling contusion
contusion | F | kontusion, prellung | contusion, bruise | swelling
swelling | F | schwellung, geschwollen | swelling, swollen | thickening
haemorrhage | F | blutung, einblutung, geblutet, ^hämorrhag, ^blut im, ^blut in der, ^blut in den,
    ^blut in die | haemorrhage, hemorrhage, haemorrhagic, hemorrhagic, bleed, blood in the | haematoma
haemoperitoneum | F | hämoperitoneum, hämatoperitoneum, ^blut im bauch | haemoperitoneum, hemoperitoneum,
    blood in the belly, blood in the abdomen | haemorrhage free_fluid abdomen
haemothorax | F | hämatothorax, hämothorax | haemothorax, hemothorax | haemorrhage pleural_effusion
haematoma | F | hämatom, bluterguss, ^blutansammlung | haematoma, hematoma, collection of blood | haemorrhage
infarct | F | infarkt, schlaganfall, ^ischämi | infarct, stroke, ischaemi, ischemi |
restricted_diffusion | F | diffusionsrestriktion | diffusion restriction, restricted diffusion | infarct
embolism | F | embolie, embolus, emboli | embolism, embolus, emboli | thrombus
pulmonary_embolism | F | lungenembolie, lungenarterienembolie | pulmonary embolism, pe# |
    embolism thrombus lung artery
thrombus | F | thromb, gerinnsel | thromb, clot, blood clot | embolism
stenosis | F | stenose, einengung, eingeengt, verengung, verengt | stenosis, stenotic, narrowing, narrowed,
    narrows | vessel
occlusion | F | verschluss, verschlossen | occlusion, occluded |
obstruction | F | obstruktion, ^obstruier, ileus, ^verstopf, ^blockier, ^verleg | obstruct, blockage, blocked,
    block#, blocks# |
nodule | F | rundherd, knoten, ^nodul | nodule, nodular | lesion mass
mass | F | raumforderung, ^masse# | mass#, masses#, growth, lump, lumps | lesion tumour nodule
tumour | F | tumor, neoplas | tumour, tumor, neoplas | mass lesion
lesion | F | läsion, ^herd | lesion, spot#, spots# | nodule
metastasis | F | metasta, absiedlung | metasta | lesion tumour carcinoma mass
carcinoma | F | karzinom, krebs, ^malign, ^bösartig | carcinom, adenocarcinom, cancer, malignan |
    tumour mass lesion
glioma | F | gliom | glioma | tumour mass lesion brain
cyst | F | zyste, ^zyst, flüssigkeitsgefüllt, ^mit flüssigkeit gefüllt | cyst, fluid-filled, fluid filled |
    lesion
lymphocele | F | lymphozele | lymphocele | cyst free_fluid effusion
hydrocele | F | hydrozele | hydrocele | effusion free_fluid testis
varicocele | F | varikozele | varicocele | vein dilatation
fibroid | F | myom | fibroid, myoma, leiomyoma | tumour lesion mass uterus
stone | F | konkrement, stein, ^lith, nephrolith | calcul, stone, lith, nephrolith |
gallstone | F | gallenstein, cholezystolithiasis, cholelithiasis | gallstone, cholelithiasis,
    cholecystolithiasis | stone gallbladder
appendicolith | F | appendikolith | appendicolith | stone appendix
fracture | F | fraktur, bruch, gebrochen, ^fissur | fracture, broken, break, crack | bone injury
injury | F | verletzung, ^verletzt | injury, injuries, injured |
foreign_body | F | fremdkörper | foreign body, foreign object |
sinusitis | F | sinusitis | sinusitis | inflammation sinus
pancreas_divisum | F | pancreas divisum, pankreas divisum | pancreas divisum | pancreas
bone | A | knochen, ^ossär | bone, bony, osseous |
dislocation | F | luxation, ausgerenkt, ^verrenkt | dislocat, slipped out |
displacement | F | verlagerung, verlagert, verschiebung, verschoben, ^disloz, ^verrutscht | shift, displace,
    pushed, moved#, out of place |
angulation | F | abkippung, abgekippt | angulation, angulated |
rupture | F | ruptur, riss, gerissen, ^partialriss, lazeration, ^eingerissen | rupture, ruptured, tear#,
    tears#,
    torn#, lacerat | injury
perforation | F | perforation, perforiert | perforat, burst | rupture
abscess | F | abszess, ^eiter | abscess, pus# |
necrosis | F | nekrose, ^abgestorben | necros, necrotic, bone death |
avascular_necrosis | F | hüftkopfnekrose, femurkopfnekrose, osteonekrose, ^avaskuläre nekrose,
    ^avaskulären nekrose, ^avaskulärer nekrose | avascular necrosis,
    osteonecrosis | necrosis bone
hydronephrosis | F | harnstau, hydronephrose, harnaufstau, urinstau | hydronephros, hydroureter |
    congestion kidney dilatation urinary_tract
dilatation | F | erweiterung, erweitert, ^dilat, aufgeweitet, ^distendiert, ^überdehnt, ^gebläht | dilat,
    dilated, widened, widening,
    distended | swelling
enlargement | F | vergrößer, ^hypertroph | enlarged, enlargement, hypertroph | swelling progression
progression | F | progredien, progress, ^gewachsen, ^zunehmend, größer geworden | progress, enlarging,
    growing, grown, increasing, worse, worsening | enlargement
cardiomegaly | F | kardiomegalie, herzvergrößerung | cardiomegaly | heart enlargement
splenomegaly | F | splenomegalie, milzvergrößerung | splenomegaly | spleen enlargement
lymphadenopathy | F | lymphadenopathie, lymphknotenvergrößerung | lymphadenopathy | lymph_node enlargement
steatosis | F | steatos, verfettung, fettleber | steatosis, fatty liver, fatty infiltration | liver
calcification | F | verkalkung, verkalkt, ^kalzifi | *calcif, calcium | plaque
plaque | F | plaque | plaque | calcification stenosis
aneurysm | F | aneurysma | aneurysm | dilatation artery protrusion
dissection | F | dissektion | dissection |
hernia | F | hernie, ^hiatushernie, leistenbruch, nabelbruch, narbenbruch, bauchwandbruch, bruchpforte,
    bruchsack | hernia#, hernias#, hiatal hernia, hernial | bowel
disc_herniation | F | bandscheibenvorfall, ^prolaps, ^vorfall, ^vorgefallen | herniation, herniated,
    prolapse, slipped disc | disc protrusion
protrusion | F | protrusion, ^vorwölb, ^wölbt | protrusion, bulge, bulges, bulging | disc
osteoarthritis | F | arthrose, ^verschleiß | osteoarthritis, arthrosis, wear and tear | degeneration joint
degeneration | F | osteochondrose, ^degenerat, spondylophyt, osteophyt | degenerat, osteochondros,
    osteophyte, bony spur, spur# | osteoarthritis
appendicitis | F | appendizitis, blinddarmentzündung | appendicitis | inflammation appendix swelling
cholecystitis | F | cholezystitis, gallenblasenentzündung | cholecystitis |
    inflammation gallbladder swelling
stranding | F | imbibierung, ^imbibiert | stranding, fat stranding | inflammation soft_tissue
enhancement | F | anreicherung, ^anreichert, ^reichert, kontrastmittelaufnahme, ^aufnehmend,
    ^kontrastmittelaufnehmend, ^kontrastierung, ^kontrastiert | enhanc | contrast vascularity
thickening | F | verdickung, verdickt | thickening, thickened | swelling
extravasation | F | extravasat, ^kontrastmittelaustritt, ^austritt | extravasation, leak, leaking |
    haemorrhage
invasion | F | invasion, infiltriert, ^ausbreitung, ^ausgebreitet, ventrikeleinbruch, eingewachsen,
    ^ausdehnung in, ^wächst in, beteiligung, ^befallen | invasion, invade, extension, spread#, involve,
    grown into, growing into, grows into |
    tumour
collapse | F | kollaps, kollabiert, eingebrochen, einbruch | collapse |
compression | F | kompression, komprimier, ^drückt, ^quetsch, zusammendrück | compress, effacement,
    squeezed, press# | displacement
contact | F | kontakt, ^berührt, ^berühren | contact, touches, touching |
retraction | F | retraktion, zurückgezogen | retract |
hydrocephalus | F | hydrozephal, ^aufstau der liquorräume | hydroceph |
    brain_ventricle dilatation enlargement
mass_effect | F | raumfordernde wirkung, raumforderungseffekt, ^verdrängt, ^verdrängung | mass effect |
    displacement compression
suspicious | F | suspekt, verdächtig | suspicious, suspect# | lesion
heart_strain | F | herzbelastung, ^belastet | heart strain, ventricular strain, strain# | heart
defect | F | defekt, ^schaden, aussparung | defect |
destruction | F | destruktion, ^zerstör, ^osteolys, ^arrosion | destruction, destroyed, destructive,
    osteolys |
    bone
fluid_level | F | sekretspiegel, flüssigkeitsspiegel, spiegelbildung | air-fluid level, fluid level,
    fluid-fluid level | effusion
step_off | F | gelenkstufe, stufenbildung, ^stufe# | step-off, articular step, step# | fracture joint
cholestasis | F | cholestase, gallestau, gallenstau | cholestasis, biliary dilatation | bile_duct dilatation
vascularity | F | vaskularisation, ^vaskularisiert, durchblutung, ^durchblutet, hyperämie, ^hyperäm |
    vascularity, vascularised, vascularized, hypervascular, hyperaemi, hyperemi, *hyperaemia, *hyperemia |
normal | N | unauffällig, regelrecht, ^intakt, ^unverletzt, ^normal, ^frei# |
    normal#, unremarkable, intact, clear# |
atrophy | F | atrophie, ^atroph, ^geschrumpft | atroph, shrunk, shrunken, wasting |
spiculation | F | spikul, ^spiculiert | spiculat, spiky | suspicious
complication | F | komplikation, kompliziert | complicat |
tendinosis | F | tendinose, tendinopathie, ^tendinitis | tendinos, tendinopath, tendinitis |
    degeneration tendon
demyelination | F | demyelinis, multiple sklerose, ^encephalomyelitis | demyelinat, multiple sclerosis |
    lesion brain
diverticulitis | F | divertikulitis | diverticulitis | inflammation bowel diverticulum
diverticulum | F | divertikel | diverticul, pouches | bowel
hill_sachs | F | hill-sachs | hill-sachs | lesion fracture
"""


@dataclass(frozen=True, slots=True)
class Concept:
    id: str
    kind: Kind
    implies: frozenset[str]


def _parse(table: str) -> tuple[dict[str, Concept], dict[str, dict[str, str]]]:
    concepts: dict[str, Concept] = {}
    forms: dict[str, dict[str, str]] = {"de": {}, "en": {}}
    rows = re.sub(r"\n\s+", " ", table.strip())  # an indented line continues the row above
    for line in rows.splitlines():
        cid, kind, de, en, implies = (part.strip() for part in line.split("|"))
        concepts[cid] = Concept(cid, kind, frozenset(implies.split()))  # type: ignore[arg-type]
        for lang, cell in (("de", de), ("en", en)):
            for form in filter(None, (f.strip() for f in cell.split(","))):
                forms[lang][form] = cid
    return concepts, forms


CONCEPTS, _FORMS = _parse(_TABLE)

_LETTER = r"[^\W\d_]"
#: Trie characters with a meaning: a space matches any whitespace, `#` says the word ends here.
_CHAR_REGEX = {" ": r"\s+", "#": f"(?!{_LETTER})"}


def _trie_regex(words: list[str]) -> str:
    """An alternation over literal words as a prefix trie: fast, and the longest match wins."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, dict]) -> str:
        branches = [
            _CHAR_REGEX.get(char, re.escape(char)) + render(child)
            for char, child in sorted(node.items())
            if char
        ]
        end = "" in node
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # Greedy optional child: a longer word is preferred over the prefix that also ends here.
        return f"(?:{body})?" if end else body

    return render(trie)


def _first_letters(words: list[str]) -> str:
    return "[" + "".join(sorted({re.escape(w[0]) for w in words})) + "]"


@cache
def form_pattern(lang: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex finding every form of `lang`, and a map from the matched form to its concept.

    Built on first use rather than at import: compiling the two tries takes about 0.1 s.
    """
    start_only: list[str] = []
    inner: list[str] = []
    lookup: dict[str, str] = {}
    for raw, cid in _FORMS[lang].items():
        form = raw.lstrip("^*")
        word_start = raw.startswith("^") or (lang == "en" and not raw.startswith("*"))
        (start_only if word_start else inner).append(form)
        lookup[form.rstrip("#")] = cid
    # At a word start every form may match (the longest wins); inside a word only the inner ones.
    # Each alternative opens with a lookahead on its possible first letters, which lets the engine
    # skip most positions without walking the trie.
    every = start_only + inner
    # A negating prefix ("un", "non") may stand before a word-start form: "uncomplicated".
    start = f"(?:(?<!{_LETTER})|(?<=(?<!{_LETTER})un)|(?<=(?<!{_LETTER})non))"
    alternatives = [f"{start}(?={_first_letters(every)})(?:{_trie_regex(every)})"]
    if inner:
        alternatives.append(f"(?={_first_letters(inner)})(?:{_trie_regex(inner)})")
    return re.compile("|".join(alternatives)), lookup


def concept_of(lang: str, matched: str) -> str | None:
    """The concept a form matched by `form_pattern(lang)` belongs to."""
    return form_pattern(lang)[1].get(" ".join(matched.lower().split()))


@cache
def implied(concept_id: str) -> frozenset[str]:
    """The concept and everything it implies, transitively."""
    seen = {concept_id}
    todo = [concept_id]
    while todo:
        for other in CONCEPTS[todo.pop()].implies:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return frozenset(seen)


def closure(concept_ids: Iterable[str]) -> set[str]:
    """The concepts plus everything they imply."""
    return set().union(*(implied(c) for c in concept_ids))
