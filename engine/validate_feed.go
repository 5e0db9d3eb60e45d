package engine

import (
	"slices"
	"strings"
)

// Checks of the ruleset's feeds and of feed conditions. Like the rest of
// Validate they run when a ruleset is built, not on the device.

// maxFeeds bounds the feeds one ruleset uses: each is a request per page.
const maxFeeds = 8

func (v *validator) feedList() {
	feeds := v.rs.Feeds
	if len(feeds) > maxFeeds {
		v.err("$.feeds", CategorySchema, "the ruleset uses "+itoa(len(feeds))+" feeds; at most "+itoa(maxFeeds), "each feed is one more request on every page; merge or drop some")
	}
	seen := map[string]string{}
	weather := ""
	for i := range feeds {
		f := &feeds[i]
		p := index("$.feeds", i)
		who := "feed " + quote(f.ID)
		v.checkID(p+".id", "a feed", f.ID, false)
		v.checkDup(p+".id", "feed", f.ID, seen)
		if !slices.Contains(FeedKinds, f.Kind) {
			v.checkEnum(p+".kind", who+" kind", f.Kind, FeedKinds)
		}
		v.feedURL(p+".url", who, f.URL)
		if f.Key != "" {
			if _, ok := decodeKey(f.Key); !ok {
				v.err(p+".key", CategorySchema, who+" key is not a 32-byte Ed25519 public key in base64", "paste the contents of the .pub file edgewise keygen wrote, as base64 (44 characters ending in =), or leave key out to use the ruleset's own key")
			}
		}
		switch f.Kind {
		case FeedCustom:
			if len(f.Values) == 0 {
				v.err(p+".values", CategorySchema, who+" is a custom feed without values", "list every value the feed may carry, such as [open, closed]")
			}
			for k, val := range f.Values {
				vp := index(p+".values", k)
				if !validID(val, false) || len(val) > MaxIDBytes {
					v.err(vp, CategorySchema, who+" value "+quote(val)+" is not a value", idHint)
				} else if slices.Contains(f.Values[:k], val) {
					v.err(vp, CategoryDuplicate, who+" lists value "+quote(val)+" twice", "list each value once")
				}
				v.checkSensitive(vp, who, "value", val, "says")
			}
			if len(f.Values) > MaxFeedValues {
				v.err(p+".values", CategorySchema, who+" lists "+itoa(len(f.Values))+" values; at most "+itoa(MaxFeedValues), "")
			}
		default:
			if len(f.Values) > 0 {
				v.err(p+".values", CategorySchema, who+" is a "+f.Kind+" feed, whose values are fixed", "remove values; they are for custom feeds")
			}
		}
		if f.Kind == FeedWeather {
			if weather != "" {
				v.err(p+".kind", CategorySchema, who+" is a second weather feed after "+quote(weather)+"; weather conditions read one", "keep one weather feed")
			}
			weather = f.ID
			v.needSignal(p+".kind", who, "supplies the weather", SignalWeather)
		}
		v.needSignal(p, who, "is joined with the person's region", SignalLocation)
		v.checkText(p+".description", who+" description", f.Description, 0, 300)
	}
}

// feedURL checks that every visitor fetches the same feed file: a path on
// the site or an https URL, with no query string or fragment in which
// something about the person could travel.
func (v *validator) feedURL(p, who, url string) {
	switch {
	case url == "":
		v.err(p, CategorySchema, who+" has no url", "give the path the site serves the feed at, such as /feeds/weather.ewf")
	case strings.ContainsAny(url, "?#"):
		v.err(p, CategoryPolicy, who+" url "+quote(url)+" has a query string or fragment", "every visitor fetches the same file: publish the feed at a fixed path")
	case strings.ContainsAny(url, " \t\r\n{}"):
		v.err(p, CategorySchema, who+" url "+quote(url)+" has spaces or template braces", "use a fixed path such as /feeds/weather.ewf")
	case strings.HasPrefix(url, "/") && !strings.HasPrefix(url, "//"):
	case strings.HasPrefix(url, "https://"):
	default:
		v.err(p, CategorySchema, who+" url "+quote(url)+" is neither a path on this site nor an https URL", "use /feeds/weather.ewf or https://cdn.example.com/weather.ewf")
	}
	if len(url) > 512 {
		v.err(p, CategorySchema, who+" url is longer than 512 characters", "")
	}
}

// feedCondition checks a rule's feed tests: each names a holidays or custom
// feed of the ruleset and values it can say.
func (v *validator) feedCondition(p, who string, tests map[string][]string) {
	if len(tests) == 0 {
		return
	}
	v.needSignal(p, who, "tests a feed joined with the person's region", SignalLocation)
	for _, id := range sortedKeys(tests) {
		fp := p + "." + id
		i := slices.IndexFunc(v.rs.Feeds, func(f FeedRef) bool { return f.ID == id })
		if i < 0 {
			ids := make([]string, len(v.rs.Feeds))
			for k, f := range v.rs.Feeds {
				ids[k] = f.ID
			}
			v.err(fp, CategoryReference, who+" tests feed "+quote(id)+", which the ruleset does not use", v.meant(id, setOf(ids), "add it under feeds"))
			continue
		}
		f := &v.rs.Feeds[i]
		var allowed []string
		switch f.Kind {
		case FeedWeather:
			v.err(fp, CategorySchema, who+" tests weather feed "+quote(id)+" with feed", "test the weather with weather: [rain, ...]; the weather feed supplies it")
			continue
		case FeedHolidays:
			allowed = holidayValues
		default:
			allowed = f.Values
		}
		if len(tests[id]) == 0 {
			v.err(fp, CategorySchema, who+" tests feed "+quote(id)+" without values", "list the values that make it hold, such as "+quoteList(allowed))
		}
		for k, val := range tests[id] {
			if !slices.Contains(allowed, val) {
				v.checkEnum(index(fp, k), who+" feed "+id+" value", val, allowed)
			}
		}
	}
}

// sortedKeys returns a map's keys in order, so compiling is deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
