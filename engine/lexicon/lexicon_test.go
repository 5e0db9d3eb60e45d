package lexicon

import (
	"os"
	"strings"
	"testing"
)

func TestLexiconParses(t *testing.T) {
	l := theLexicon()
	for _, err := range l.errs {
		t.Error(err)
	}
	embedded := lexiconFiles()
	for name, data := range embedded {
		if !strings.Contains(data, "\t") {
			t.Errorf("lexicon %s is empty", name)
		}
	}
	dir, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range dir {
		if strings.HasSuffix(e.Name(), ".tsv") && embedded[e.Name()] == "" {
			t.Errorf("%s is not embedded: add it to lexiconFiles in lexicon.go", e.Name())
		}
	}
	perCategory := make([]int, len(sensitiveCategories))
	for _, term := range l.terms {
		perCategory[term.cat]++
	}
	for i, n := range perCategory {
		if n < 3 {
			t.Errorf("category %s has %d terms", sensitiveCategories[i].key, n)
		}
	}
	if len(l.allow) == 0 {
		t.Error("the allowlist is empty")
	}
	bad := parseLexicon(map[string]string{"x.tsv": "health\n\tdiabetes\nfeelings\tsad\nhealth\t!!!\n# fine\n\nhealth\tcancer\n"})
	if len(bad.errs) != 4 || len(bad.terms) != 1 {
		t.Errorf("malformed lines: errs %q, %d terms", bad.errs, len(bad.terms))
	}
}

// Every term must be caught when written as in the lexicon: a term its own
// normalization or the allowlist hides would never match anything.
func TestLexiconTermsMatchThemselves(t *testing.T) {
	for _, term := range theLexicon().terms {
		want := sensitiveCategories[term.cat].name
		found := false
		for _, h := range Sensitive(term.text) {
			found = found || h.Category == want
		}
		if !found {
			t.Errorf("term %q (%s) does not match itself", term.text, want)
		}
	}
}

func TestSensitiveCaught(t *testing.T) {
	for _, tc := range []struct {
		name, text, category, term string
	}{
		{"plain", "Prenatal vitamins", "pregnancy and fertility", "prenatal"},
		{"capitals", "PRENATAL VITAMINS", "pregnancy and fertility", "prenatal"},
		{"camel case", "PreNatalVitamins", "pregnancy and fertility", "prenatal"},
		{"hyphen", "pre-natal vitamins", "pregnancy and fertility", "prenatal"},
		{"underscore", "pre_natal", "pregnancy and fertility", "prenatal"},
		{"dots between letters", "p.r.e.n.a.t.a.l", "pregnancy and fertility", "prenatal"},
		{"spaces between letters", "p r e n a t a l care", "pregnancy and fertility", "prenatal"},
		{"split by a space", "pre natal", "pregnancy and fertility", "prenatal"},
		{"split by a spaced dash", "pre - natal", "pregnancy and fertility", "prenatal"},
		{"concatenated", "prenatalcare", "pregnancy and fertility", "prenatal"},
		{"inside an id", "antidepressants-sale", "medication", "antidepressant"},
		{"plural -ies", "Pregnancies", "pregnancy and fertility", "pregnancy"},
		{"plural -s", "Antibiotics", "medication", "antibiotic"},
		{"plural -es", "Churches near you", "religion", "church"},
		{"plural of a short term", "Jews", "religion", "jew"},
		{"accent", "relígion", "religion", "religion"},
		{"decomposed accent", "religio\u0301n", "religion", "religion"},
		{"umlaut as a dodge", "diäbetes", "health and medical conditions", "diabetes"},
		{"leetspeak digits", "pr3gn4ncy", "pregnancy and fertility", "pregnancy"},
		{"leetspeak symbols", "$uicide prevent1on", "mental health and addiction", "suicide"},
		{"leetspeak @", "@bortion", "pregnancy and fertility", "abortion"},
		{"leetspeak short term", "h1v", "health and medical conditions", "hiv"},
		{"capitals inside a word", "HIVtest", "health and medical conditions", "hiv"},
		{"short term as a token", "anti-HIV", "health and medical conditions", "hiv"},
		{"zero-width space", "pre\u200bgnancy", "pregnancy and fertility", "pregnancy"},
		{"soft hyphen", "preg\u00adnant", "pregnancy and fertility", "pregnant"},
		{"fullwidth letters", "ｐｒｅｇｎａｎｔ", "pregnancy and fertility", "pregnant"},
		{"Cyrillic look-alike", "r\u0435ligion", "religion", "religion"},
		{"two words in order", "gender identity", "sexual orientation and gender identity", "gender identity"},
		{"two words reversed", "identity-gender", "sexual orientation and gender identity", "gender identity"},
		{"two words apart", "the identity of your gender", "sexual orientation and gender identity", "gender identity"},
		{"two words written together", "genderidentity", "sexual orientation and gender identity", "gender identity"},
		{"multi-word plural", "Trade unions", "trade-union membership", "trade union"},
		{"exact-only term", "therapist", "mental health and addiction", "therapist"},
		{"exact-only plural", "Statins", "medication", "statin"},
		{"German", "Schwangerschaftsmode", "pregnancy and fertility", "schwanger"},
		{"German plural", "Kirchen", "religion", "kirche"},
		{"German umlaut spelled out", "juedisch", "religion", "jüdisch"},
		{"German umlaut dropped", "judische Feiertage", "religion", "jüdisch"},
		{"German compound", "Gewerkschaftsmitglieder", "trade-union membership", "gewerkschaft"},
		{"German criminal", "Vorstrafen", "criminal records", "vorstrafe"},
		{"German children", "Kinderschuhe", "children as targets", "kinder"},
		{"German biometric", "Fingerabdruck-Scanner", "biometric or genetic data", "fingerabdruck"},
		{"French", "Grossesse et maternité", "pregnancy and fertility", "grossesse"},
		{"French accents dropped", "medicaments", "medication", "médicament"},
		{"French union", "syndiqués", "trade-union membership", "syndiqué"},
		{"French debt", "Surendettement", "debt or financial hardship", "endettement"},
		{"French multi-word", "casier judiciaire vierge", "criminal records", "casier judiciaire"},
		{"Spanish", "embarazada", "pregnancy and fertility", "embarazada"},
		{"Spanish capitals", "EMBARAZO", "pregnancy and fertility", "embarazo"},
		{"Spanish union", "Sindicatos", "trade-union membership", "sindicato"},
		{"Spanish debt", "deudas", "debt or financial hardship", "deuda"},
		{"Spanish multi-word", "orientación sexual", "sexual orientation and gender identity", "orientación sexual"},
		{"Spanish children", "niños", "children as targets", "niño"},
		{"Spanish exact-only plural", "elecciones", "political views", "elecciones"},
		{"ethnicity", "Multiracial", "ethnicity", "racial"},
		{"politics", "Republican voters", "political views", "republican"},
		{"finance", "Payday loans", "debt or financial hardship", "payday loan"},
		{"criminal", "ex-offender programme", "criminal records", "ex-offender"},
		{"children", "for-teens", "children as targets", "teen"},
		{"biometric", "DNA-Test", "biometric or genetic data", "dna test"},
		{"allowlisted phrase elsewhere", "Hindu temple", "religion", "hindu"},
		{"one letter dropped", "pregnacy pillow", "pregnancy and fertility", "pregnancy"},
		{"one letter changed", "Pregnency test", "pregnancy and fertility", "pregnancy"},
		{"two letters swapped", "Addiciton", "mental health and addiction", "addiction"},
		{"misspelled plural", "Refugess", "ethnicity", "refugee"},
		{"7 letters, one dropped", "Todler", "children as targets", "toddler"},
		{"7 letters, two swapped", "anxeity", "mental health and addiction", "anxiety"},
		{"misspelled in several words", "Crimnal record", "criminal records", "criminal record"},
		{"short term glued", "hivtest", "health and medical conditions", "hiv"},
		{"short term glued to two words", "gaydatingapp", "sexual orientation and gender identity", "gay"},
		{"whole-word term glued, German s", "Gebetsteppich", "religion", "gebet"},
		{"whole-word term glued, German n", "Kirchenchor", "religion", "kirche"},
		{"several words with an ending", "Fingerprint scanner", "biometric or genetic data", "fingerprint scan"},
		{"phrase", "Plan B", "pregnancy and fertility", "plan b"},
		{"phrase as tokens", "mothers-to-be", "pregnancy and fertility", "mother to be"},
		{"phrase of words with an apostrophe", "Worker's union", "trade-union membership", "workers union"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := Sensitive(tc.text)
			if len(hits) == 0 || hits[0].Category != tc.category || hits[0].Term != tc.term {
				t.Errorf("Sensitive(%q) = %v, want %s (matched %q) first", tc.text, hits, tc.category, tc.term)
			}
		})
	}
}

func TestSensitiveCategoriesInOrder(t *testing.T) {
	hits := Sensitive("Kosher snacks for pregnant union members")
	var got []string
	for _, h := range hits {
		got = append(got, h.Category)
	}
	want := []string{"religion", "pregnancy and fertility", "trade-union membership"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("categories = %q, want %q", got, want)
	}
}

func TestInnocentWordsPass(t *testing.T) {
	for _, text := range []string{
		// An outdoor shop.
		"trail", "Trail running shoes", "rain", "Rain shell jacket", "race", "Race hydration vest", "racing", "camp", "camping",
		"campfire", "hiking", "hike", "weather", "sunscreen", "SPF 50 sun cream", "first aid kit", "bug spray", "bug sprayer",
		"insect repellent", "water filter", "base layer", "anti-pill fleece", "softshell", "waterproof", "breathable",
		"merino wool", "thermal gloves", "headlamp", "two-person tent", "camping stove", "sleeping bag", "down jacket",
		"rainfly", "crampons", "ice axe", "climbing harness", "carabiner", "trekking poles", "snowshoes", "kayak paddle",
		"compass", "GPS watch", "energy gels", "trail mix", "sunglasses", "infantry boots", "canteen", "navigation aids",
		"Hindu Kush trek", "Hindu-Kush", "Christchurch", "altitude sickness",
		// Marketing.
		"Christmas sale", "Black Friday deals", "Father's Day gifts", "Mother's Day", "lifelong warranty",
		"ask a specialist", "devastating storms", "diagnostic tool", "our selection", "between the peaks",
		"archive", "jewelry", "commercial", "patiently waiting", "democratize the outdoors", "kinder to the planet",
		"new arrivals for returning visitors", "members get free shipping", "women's", "men's", "unisex", "youth",
		"Because it's raining in your region", "Recommend gear like what you viewed in this shop.",
		// German.
		"Regenjacke", "Wanderschuhe", "Zelt", "Schlafsack", "Stirnlampe", "Trinkblase", "Wanderwege mit guter Beschilderung",
		"Namensschild", "Höhenkrankheit vorbeugen", "Unfallverhütung", "schwül", "Bei schwülem Wetter", "besucht", "versucht",
		"Auswahl", "Isolierung", "Gelsenkirchen", "Feldkirchen", "Schuhindustrie", "wählerisch", "Zeigt Ähnliches zu dem, was du angesehen hast.",
		"Söckchen ☂ merino",
		// French.
		"randonnée", "veste imperméable", "sac à dos", "lampe frontale", "polaire", "doudoune", "bâtons de marche",
		"sélection", "sélecteur", "politique de retour", "enceinte bluetooth", "Prière de ne pas marcher sur la mousse",
		"vedette", "cadette", "lampe pivotante",
		// Spanish.
		"senderismo", "chaqueta impermeable", "tienda de campaña", "saco de dormir", "mochila", "aislamiento térmico",
		"platino", "especialista", "selecciones", "política de privacidad",
		// Place names and product phrases, and words near terms.
		"Church Stretton", "Kinder Scout", "Gay Head lighthouse", "therapist chair", "Baby potatoes",
		"Top Trumps", "trumpet", "hives", "hivernal", "Gelsenkirchen", "Kidsgrove", "Gaylord", "addition",
		"generic filter", "preservative-free", "Meditation cushion", "plan your trip", "Option B",
		"cricket stumps and bails", "Paroles de chansons", "buoyancy aids", "Far right corner", "Partie",
		"Situación embarazosa", "Mosquetón", "Syndicat d'initiative", "kinderleichte Montage",
		// Numbers and codes.
		"4x4", "2p", "Gore-Tex 3L", "10k race", "129.00 EUR",
	} {
		if hits := Sensitive(text); len(hits) != 0 {
			t.Errorf("Sensitive(%q) = %v, want nothing", text, hits)
		}
	}
}

func BenchmarkSensitive(b *testing.B) {
	theLexicon()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Sensitive("Trail running shoes for rainy days, with a waterproof membrane")
	}
}

func BenchmarkParseLexicon(b *testing.B) {
	files := lexiconFiles()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		parseLexicon(files)
	}
}

func TestOneEdit(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"pregnancy", "pregnancy", true},
		{"pregnacy", "pregnancy", true},
		{"pregnanncy", "pregnancy", true},
		{"pregnency", "pregnancy", true},
		{"pregnnacy", "pregnancy", true},
		{"prgenancy", "pregnancy", true},
		{"pregnan", "pregnancy", false},
		{"prenancyg", "pregnancy", false},
		{"addition", "addiction", true}, // one edit; words.txt keeps it out
		{"genetic", "generic", true},
	} {
		if got := oneEdit(tc.a, tc.b); got != tc.want {
			t.Errorf("oneEdit(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	// Shorter terms take fewer edits.
	for _, tc := range []struct {
		word, term string
		want       bool
	}{
		{"todler", "toddler", true},   // 7: dropped
		{"anxeity", "anxiety", true},  // 7: swapped
		{"anxiaty", "anxiety", false}, // 7: changed
		{"generic", "genetic", false}, // 7: changed
		{"musilm", "muslim", true},    // 6: swapped
		{"muslin", "muslim", false},   // 6: changed
		{"musli", "muslim", false},    // 6: dropped
	} {
		if got := shortEdit(tc.word, tc.term); got != tc.want {
			t.Errorf("shortEdit(%q, %q) = %v, want %v", tc.word, tc.term, got, tc.want)
		}
	}
}
