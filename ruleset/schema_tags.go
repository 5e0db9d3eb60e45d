package ruleset

// schemaTags holds the JSON Schema keywords of the ruleset model: for each
// field of engine.Ruleset and the types it uses, keyed by Go type name and
// Go field name, the text a `jsonschema:"..."` struct tag on that field
// would hold, in invopop/jsonschema's syntax (commas inside a value written
// \,). generateSchema gives them to invopop as if they were the fields' tags
// (see taggedModel).
//
// They live here rather than as tags in engine/model.go because Go keeps
// struct tags in the type metadata of every type a program uses, and the
// engine is compiled into edgewise.wasm, which every visitor to a site
// downloads: the descriptions and patterns would ship to all of them
// although only this build-time generator reads them. A test fails if an
// engine type carries a jsonschema tag again, or if an entry here names a
// field that does not exist.
var schemaTags = map[string]string{
	"Ruleset.ID":          `title=Ruleset id,description=A short stable name for this ruleset; reports are keyed by it.,pattern=^[a-z0-9][a-z0-9._-]*$,maxLength=128`,
	"Ruleset.Version":     `description=The ruleset's own version; shown in previews and reports.,minLength=1,maxLength=64`,
	"Ruleset.Description": `description=What this ruleset is for\, in a sentence.,maxLength=500`,
	"Ruleset.Profile":     `description=How the on-device profile learns and forgets.`,
	"Ruleset.Signals":     `description=Every signal the engine may use\, each with the purpose shown to people. Nothing undeclared is collected.`,
	"Ruleset.Regions":     `description=Named coarse areas that rules and availability refer to.`,
	"Ruleset.Catalogue":   `description=The content the engine can pick from.,minItems=1`,
	"Ruleset.Slots":       `description=The places on a page that show picks.,minItems=1`,
	"Ruleset.Rules":       `description=When a condition holds\, boost\, bury\, pin or exclude some items.`,
	"Ruleset.Caps":        `description=How often an item or campaign may be shown to one person.`,
	"Ruleset.Cohorts":     `description=The coarse groups a person may be counted in\, if they allow reports.`,
	"Ruleset.Reporting":   `description=How cohort reports are noised and how often they may be sent.`,
	"Ruleset.Experiments": `description=Experiments that compare the personalized picks with the shop's own in some slots\, measured by noised outcome reports.,maxItems=8`,
	"Ruleset.Feeds":       `description=Signed context feeds the device fetches and joins with the person's coarse region\, such as the local weather. Every visitor fetches the same file.`,

	"FeedRef.ID":          `description=The feed's id; the feed file carries the same id.,pattern=^[a-z0-9][a-z0-9_-]*$,maxLength=64`,
	"FeedRef.Kind":        `description=weather supplies the weather signal; holidays and custom feeds are tested with feed conditions.,enum=weather,enum=holidays,enum=custom`,
	"FeedRef.URL":         `description=Where the page fetches the feed: a path on this site or an https URL\, with no query string\, so every visitor fetches the same file.,minLength=1,maxLength=512`,
	"FeedRef.Key":         `description=The feed signer's Ed25519 public key in base64; left out\, the key the ruleset itself is signed with.,pattern=^[A-Za-z0-9+/]{43}=$`,
	"FeedRef.Values":      `description=For a custom feed\, every value it may carry.,pattern=^[a-z0-9][a-z0-9_-]*$`,
	"FeedRef.Description": `description=What the feed says\, for people reviewing the ruleset.,maxLength=300`,

	"ProfileSettings.HalfLifeDays": `description=An event counts half as much after this many days (default 14).,exclusiveMinimum=0,maximum=365`,
	"ProfileSettings.MaxEvents":    `description=The most events kept on the device (default 500).,minimum=1,maximum=5000`,

	"Signal.ID":            `description=A name for this signal.,pattern=^[a-z0-9][a-z0-9_-]*$`,
	"Signal.Kind":          `enum=history,enum=location,enum=weather,enum=time,enum=device,enum=referrer,enum=page,enum=visits`,
	"Signal.Purpose":       `description=One sentence shown to the person: what this signal is used for.,minLength=10,maxLength=300`,
	"Signal.RetentionDays": `description=How long data from this signal is kept on the device; 0 means it is used and never stored.,minimum=0,maximum=90`,

	"Region.ID":           `pattern=^[a-z0-9][a-z0-9_-]*$`,
	"Region.Name":         `description=The name people see.,minLength=1`,
	"Region.Countries":    `description=ISO 3166-1 alpha-2 codes.,pattern=^[A-Z]{2}$`,
	"Region.Subdivisions": `description=ISO 3166-2 codes such as US-WA.,pattern=^[A-Z]{2}-[A-Z0-9]{1\,3}$`,
	"Region.Boxes":        `description=Bounding boxes at least 1 degree on each side.`,
	"Region.Geohashes":    `description=Geohash cells of at most 3 characters (about 156 km).,pattern=^[0-9b-hjkmnp-z]{1\,3}$`,

	"Box.South": `minimum=-90,maximum=90`,
	"Box.West":  `minimum=-180,maximum=180`,
	"Box.North": `minimum=-90,maximum=90`,
	"Box.East":  `minimum=-180,maximum=180`,

	"Item.ID":         `pattern=^[a-z0-9][a-z0-9._-]*$,maxLength=128`,
	"Item.Title":      `description=Shown in reasons: Because you viewed <title>.,minLength=1,maxLength=256`,
	"Item.Tags":       `description=What the item is about; interests are learned per tag.,minItems=1,maxItems=32`,
	"Item.Campaign":   `description=The campaign the item belongs to\, for caps and rules.`,
	"Item.Attributes": `description=Free-form details the page can render (price\, image\, link).`,
	"Item.Regions":    `description=Available only in these regions; empty means everywhere.`,
	"Item.Schedule":   `description=Available only inside these windows; empty means always.`,

	"Window.From":  `format=date,description=First day\, YYYY-MM-DD.`,
	"Window.Until": `format=date,description=Last day\, YYYY-MM-DD.`,

	"Slot.ID":          `pattern=^[a-z0-9][a-z0-9_-]*$`,
	"Slot.Candidates":  `description=Which items this slot may show; empty means all.`,
	"Slot.Limit":       `minimum=1,maximum=50`,
	"Slot.Fallback":    `description=Shown\, in order\, when nothing personal qualifies.,minItems=1`,
	"Slot.ExcludeSeen": `description=Leave out items the person already viewed or bought (default true); false lets the slot show them\, e.g. for buy again.,default=true`,

	"Diversity.MaxPerTag":      `minimum=1`,
	"Diversity.MaxPerCampaign": `minimum=1`,

	"Rule.ID":          `pattern=^[a-z0-9][a-z0-9_-]*$`,
	"Rule.Description": `description=The rule in a sentence\, for people reviewing it.`,
	"Rule.Reason":      `description=Shown to the person when this rule shaped a pick\, e.g. Because it's raining in your region.,maxLength=200`,
	"Rule.When":        `description=All listed conditions must hold; an empty condition always holds.`,
	"Rule.Items":       `description=The items the action applies to.`,
	"Rule.Slots":       `description=Only in these slots; empty means every slot.`,
	"Rule.Boost":       `description=Multiply the items' scores by this (more than 1\, at most 10).,exclusiveMinimum=1,maximum=10`,
	"Rule.Bury":        `description=Multiply the items' scores by this (between 0 and 1).,exclusiveMinimum=0,exclusiveMaximum=1`,
	"Rule.Pin":         `description=Put the first matching item at this position (1 is first).,minimum=1,maximum=50`,
	"Rule.Exclude":     `description=Never show the items while the condition holds.`,

	"Condition.Weather":     `enum=clear,enum=cloudy,enum=rain,enum=snow,enum=storm,enum=hot,enum=cold`,
	"Condition.Region":      `description=Region ids from regions.`,
	"Condition.Daypart":     `enum=morning,enum=afternoon,enum=evening,enum=night`,
	"Condition.Weekday":     `enum=mon,enum=tue,enum=wed,enum=thu,enum=fri,enum=sat,enum=sun`,
	"Condition.Device":      `enum=mobile,enum=tablet,enum=desktop`,
	"Condition.Referrer":    `enum=direct,enum=search,enum=social,enum=email,enum=partner`,
	"Condition.PageSection": `description=Site section names the page reports.`,
	"Condition.Visits":      `description=The person's visit count is in this range.`,
	"Condition.Interest":    `description=The person's interest in a tag is at least this strong.`,
	"Condition.Viewed":      `description=The person viewed a matching item recently.`,
	"Condition.Purchased":   `description=The person bought a matching item recently.`,
	"Condition.Feed":        `description=A holidays or custom feed says one of these values for the person's region today: feed id to values.`,

	"Range.Min": `minimum=0`,
	"Range.Max": `minimum=0`,

	"InterestTest.AtLeast": `exclusiveMinimum=0,maximum=100`,

	"RecentTest.WithinDays": `minimum=1,maximum=90`,

	"Cap.ID":      `pattern=^[a-z0-9][a-z0-9_-]*$`,
	"Cap.PerDay":  `minimum=1,maximum=100`,
	"Cap.PerWeek": `minimum=1,maximum=500`,

	"Dimension.ID":      `pattern=^[a-z0-9][a-z0-9_-]*$`,
	"Dimension.From":    `enum=interest,enum=region,enum=engagement`,
	"Dimension.Buckets": `minItems=2,maxItems=16`,

	"Bucket.ID":      `pattern=^[a-z0-9][a-z0-9_-]*$`,
	"Bucket.Tags":    `description=For interest: the tags that make up this bucket.`,
	"Bucket.Regions": `description=For region: the region ids in this bucket.`,
	"Bucket.Visits":  `description=For engagement: the visit counts in this bucket.`,

	"Reporting.EpochDays": `description=At most one report per epoch (default 7 days\, at least 7).,minimum=7,maximum=90`,
	"Reporting.Epsilon":   `description=Local differential privacy budget per report (default 2\, at most 4).,exclusiveMinimum=0,maximum=4`,
	"Reporting.MinK":      `description=Smallest cohort reported as itself (default 50).,minimum=10`,

	"Experiment.ID":          `description=A short stable name; outcome reports and the dashboard are keyed by it. Changing holdout or epsilon starts a new experiment: give it a new id.,pattern=^[a-z0-9][a-z0-9_-]*$,maxLength=128`,
	"Experiment.Description": `description=What the experiment asks\, in a sentence.,maxLength=500`,
	"Experiment.Slots":       `description=The slots whose picks it compares.,minItems=1`,
	"Experiment.Holdout":     `description=The share of people in the comparison group\, drawn on each device (0.1 is one in ten).,exclusiveMinimum=0,exclusiveMaximum=1`,
	"Experiment.Control":     `description=What the comparison group sees in the slots: fallback (the slots' fallback items\, the default) or without_rules (the picks without the rules listed in rules).,enum=fallback,enum=without_rules`,
	"Experiment.Rules":       `description=With control without_rules: the rules the comparison group goes without.`,
	"Experiment.Goals":       `description=What counts as an outcome in an epoch\, after the person first saw one of the slots: purchase\, add_to_cart\, or click (on an item of the slots).,minItems=1`,
	"Experiment.Within":      `description=The id of an experiment this one runs inside: only people in its personalized arm take part. Two experiments may share a slot only when one runs within the other.`,
	"Experiment.Epsilon":     `description=Local differential privacy of one outcome answer (default 1); all experiments' answers together at most 2 an epoch.,exclusiveMinimum=0,maximum=2`,
	"Experiment.MinLift":     `description=The smallest relative lift worth finding (default 0.1\, 10%); simulate\, audit and the dashboard's verdict use it.,exclusiveMinimum=0,maximum=10`,
}
