package sim

// htmlTemplates are the preview and audit pages: self-contained (inline
// CSS and SVG, no scripts, no external resources) and well-formed XML, so
// tests parse them strictly.
const htmlTemplates = `
{{define "style"}}<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 64em; padding: 0 1em; color: #1d2327; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccd; } h3 { margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border-bottom: 1px solid #e3e6ea; padding: .25em .6em; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #667; } .bad { color: #a11; font-weight: 600; } .good { color: #176b2c; font-weight: 600; }
.rules { color: #667; font-size: .85em; } code { font-size: .9em; }
svg { display: block; margin: .5em 0 1em; }
</style>{{end}}

{{define "preview"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>Edgewise preview: {{.Ruleset}}</title>
{{template "style"}}
</head>
<body>
<h1>Preview of <code>{{.Ruleset}}</code></h1>
<p class="muted">{{len .Personas}} personas, from {{when .Start}}, run in edgewise.wasm, the engine browsers run.</p>
{{range .Personas}}<section id="persona-{{.ID}}">
<h2>{{.ID}}{{if .Name}}: {{.Name}}{{end}}</h2>
<p>{{prefs .Preferences}}{{if .Cohort}}<br/>cohort <code>{{.Cohort}}</code>{{end}}{{if .NoReport}}<br/>no cohort reports: {{.NoReport}}{{end}}</p>
{{range $i, $v := .Visits}}<h3>Visit {{add1 $i}}, {{when $v.At}}</h3>
<p class="muted">{{ctx $v.Context}}</p>
{{if $v.Events}}<ul>{{range $v.Events}}<li>{{.Type}} <code>{{.Item}}</code>{{if .Refused}} <span class="bad">refused: {{.Refused}}</span>{{end}}</li>{{end}}</ul>{{end}}
<table>
<thead><tr><th>slot</th><th class="n">#</th><th>item</th><th class="n">score</th><th>why</th></tr></thead>
<tbody>
{{range $v.Decisions}}{{$d := .}}{{range $j, $p := .Items}}<tr><td>{{if eq $j 0}}{{$d.Slot}}{{if $d.Fallback}} <span class="muted">(fallback)</span>{{end}}{{end}}</td><td class="n">{{add1 $j}}</td><td><code>{{$p.Item}}</code></td><td class="n">{{score $p.Score}}</td><td>{{$p.Reason}}{{if $p.Rules}}<br/><span class="rules">{{join $p.Rules ", "}}</span>{{end}}</td></tr>
{{end}}{{end}}</tbody>
</table>
{{end}}</section>
{{end}}{{with .Experiments}}{{template "experiments" .}}{{end}}
</body>
</html>
{{end}}

{{define "experiments"}}
<section id="experiments">
<h2>Experiments</h2>
<p>{{experimentsAbout}} {{.Intro}}</p>
{{if .Run}}<p id="outcome-epsilon">{{.EpsilonLine}}</p>{{end}}
{{range .Views}}<section class="experiment" id="experiment-{{.ID}}">
<h3><code>{{.ID}}</code></h3>
{{if .Description}}<p>{{.Description}}</p>{{end}}
<p class="muted">{{.Design}}.</p>
{{with .Power}}<h4>Power</h4>
<p>At {{.Assumes}}. <span class="headline">{{.Headline}}</span></p>
{{$p := .}}<table class="power">
<thead><tr><th class="n">weeks to find a lift of</th>{{range .Epsilons}}<th class="n">{{columnHeading .}}</th>{{end}}</tr></thead>
<tbody>
{{range $l := .Lifts}}<tr><th class="n">{{$p.RowHeading $l}}</th>{{range $e := $p.Epsilons}}<td class="n">{{$p.CellText $l $e}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{with .Warning}}<p class="bad warning">Warning: {{.}}</p>{{end}}
{{with .Horizon}}<p class="muted">{{.}}</p>{{end}}
{{else}}<p class="muted no-power">{{noPower}}</p>
{{end}}{{if .Nobody}}<p class="muted nobody">{{nobodyInIt}}</p>
{{end}}{{if .Analysis}}<h4>Simulated run</h4>
<p>{{$.RunSummary .ExperimentReport}} {{.Run.BeforeNoise}} {{$.ReadLine .Analysis}}</p>
{{.Chart}}
<table class="epochs">
<thead><tr>{{range epochHeadings}}<th class="n">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td class="n">{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
<p class="cumulative">{{cumulative .Analysis}}</p>
<p class="truth {{if .Run.InCS}}good{{else}}bad{{end}}">{{.Run.TruthLine .Analysis}}</p>
<p class="verdict"><strong>{{.Analysis.Cumulative.Verdict}}</strong></p>
{{end}}</section>
{{end}}</section>
{{end}}

{{define "audit"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>Privacy audit: {{.Ruleset}}</title>
{{template "style"}}
</head>
<body>
<h1>Privacy audit of <code>{{.Ruleset}}</code></h1>
{{if .Description}}<p>{{.Description}}</p>{{end}}
{{if .Population}}<p class="muted">Simulated with edgewise.wasm, the engine browsers run: {{.Population.Visitors}} synthetic visitors, seed {{.Population.Seed}}, {{.Population.Epochs}} epochs; <span id="drift">{{.Population.DriftSummary}}</span>.</p>{{end}}

<section id="signals">
<h2>Signals collected</h2>
<table>
<thead><tr><th>signal</th><th>kind</th><th>purpose shown to people</th><th class="n">kept on the device</th></tr></thead>
<tbody>
{{range .Signals}}<tr><td><code>{{.ID}}</code></td><td>{{.Kind}}</td><td>{{.Purpose}}</td><td class="n">{{if eq .RetentionDays 0}}not stored{{else}}{{.RetentionDays}} days{{end}}</td></tr>
{{end}}</tbody>
</table>
</section>
{{if .Feeds}}
<section id="feeds">
<h2>Context feeds</h2>
<p>Signed files the page fetches and the device joins with the person's region; the region never leaves the device. What fetching them reveals: {{(index .Feeds 0).Reveals}}</p>
<table>
<thead><tr><th>feed</th><th>kind</th><th>fetched from</th><th>signed with</th><th>what it says</th></tr></thead>
<tbody>
{{range .Feeds}}<tr data-feed="{{.ID}}"><td><code>{{.ID}}</code></td><td>{{.Kind}}</td><td><code>{{.URL}}</code></td><td>{{.Signer}}</td><td>{{.Description}}</td></tr>
{{end}}</tbody>
</table>
</section>{{end}}

<section id="sensitive">
<h2>Sensitive categories and privacy policy</h2>
{{if .Policy}}<p class="bad" data-problems="{{len .Policy}}">{{len .Policy}} privacy policy findings ({{.Sensitive}} about sensitive categories).</p>
<table>
<thead><tr><th>where</th><th>severity</th><th>finding</th></tr></thead>
<tbody>
{{range .Policy}}<tr><td><code>{{.Where}}</code></td><td>{{.Severity}}</td><td>{{.Message}}{{if .Hint}}<br/><span class="muted">{{.Hint}}</span>{{end}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p class="good" data-problems="0">No findings: no item, tag, region, rule or cohort names a sensitive category, and the policy's precision, retention and cohort-size checks pass.</p>
{{end}}</section>

{{if not .Population}}
<section id="nothing-reported">
<h2>What leaves the device</h2>
{{if .Experiments}}<p id="only-outcomes">{{onlyOutcomes}}</p>{{else}}<p class="good" id="nothing-leaves">{{nothingLeaves}}</p>{{end}}
</section>
{{with .Experiments}}{{template "experiments" .}}{{end}}
{{else}}
<section id="cohorts">
<h2>Cohort catalogue and k-anonymity</h2>
<p>{{len .Dimensions}} dimensions make <span id="catalogue-size">{{.Catalogue}}</span> cohorts (every full cohort, then each coarser level). A cohort smaller than <span id="min-k">{{.MinK}}</span> people (min_k) is never reported as itself: the device falls back to the coarser cohort without its last dimension, or sends nothing.</p>
<table>
<thead><tr><th>dimension</th><th>from</th><th>buckets</th></tr></thead>
<tbody>
{{range .Dimensions}}<tr><td><code>{{.ID}}</code></td><td>{{.From}}</td><td>{{join .Buckets ", "}}</td></tr>
{{end}}</tbody>
</table>
</section>

<section id="epsilon">
<h2>Privacy budget</h2>
<table>
<tbody>
<tr><th>mechanism</th><td>{{.Population.Mechanism}}</td></tr>
<tr><th>ε per new answer</th><td class="n" id="epsilon-report">{{num .Epsilon}}</td></tr>
<tr><th>reports per year (one per {{.EpochDays}}-day epoch)</th><td class="n">{{num .ReportsPerYear}}</td></tr>
<tr><th>ε per year, at most (one new answer per answer period, and a year touches two: 2 × ε)</th><td class="n" id="epsilon-year">{{num .EpsilonPerYear}}</td></tr>
<tr><th>ε spent over the {{.Population.Epochs}} simulated epochs, mean</th><td class="n" id="epsilon-spent-mean">{{num .Population.EpsilonSpentMean}}</td></tr>
<tr><th>ε spent over the {{.Population.Epochs}} simulated epochs, most</th><td class="n" id="epsilon-spent-max">{{num .Population.EpsilonSpentMax}}</td></tr>
</tbody>
</table>
<p class="muted">The noised answer about a cohort is drawn once and repeated in every later report about it, and one answer serves a whole answer period of at least 366 days, whatever the person's cohort does meanwhile: a person spends ε at most once a period.</p>
</section>

<section id="reidentification">
<h2>Re-identification risk</h2>
<p>Share of reporting visitors whose sequence of reports, as sent, no other visitor shares: what an observer who could link a device's reports across epochs would single out. "Without noise" is the same for the cohorts the reports were about.</p>
{{if .Marks}}<p id="marks">{{.Marks}}</p>{{end}}
{{.UniqueChart}}
<table>
<thead><tr><th class="n">after epoch</th><th class="n">unique</th><th class="n">visitors</th><th class="n">without noise</th></tr></thead>
<tbody>
{{range $i, $u := .Population.Unique}}<tr class="unique"><td class="n">{{$u.Epoch}}</td><td class="n">{{pct $u.Fraction}}</td><td class="n">{{$u.Unique}} of {{$u.Of}}</td><td class="n">{{pct (index $.Population.UniqueWithoutNoise $i).Fraction}}</td></tr>
{{end}}</tbody>
</table>
{{if .Verdict}}<p id="verdict" class="{{if .TargetMet}}good{{else}}bad{{end}}">{{.Verdict}}</p>{{end}}
</section>
{{with .Population.Forgery}}
<section id="forgery">
<h2>Forged reports</h2>
<p>{{forgeryIntro}}</p>
<table>
<tbody>
<tr><th>people one forged report counts as</th><td class="n">{{num .Weight}}</td></tr>
<tr><th>the collector's forgery margin</th><td class="n">{{.Margin}} reports</td></tr>
<tr><th>forged reports that publish <code>{{.Target}}</code>, nobody's cohort</th><td class="n" id="forged-needed">{{.Needed}}</td></tr>
<tr><th>the same without the margin</th><td class="n">{{.NeededWithoutMargin}}</td></tr>
<tr><th>real cohorts the margin withholds (published without it)</th><td class="n">{{.Withheld}} ({{.Published}} stay published)</td></tr>
{{if .Forged}}<tr><th>the adversary's {{.Forged}} forged reports</th><td class="n">{{if .TargetPublished}}published it as {{.TargetSize}}{{else}}did not publish it{{end}}</td></tr>{{end}}
</tbody>
</table>
</section>
{{end}}

<section id="distribution">
<h2>Simulated cohort distribution</h2>
<p><span id="reporters">{{.Population.Reporters}}</span> of {{.Population.Visitors}} visitors make cohort reports. In the first epoch, <span id="coarser">{{.Population.Coarser}}</span> reports fell back to a coarser cohort; <span id="under-k">{{.Population.UnderK}}</span> full cohorts had people but fewer than min_k.</p>
{{.SizeChart}}
<table>
<thead><tr><th>full cohorts of size</th><th class="n">cohorts</th><th class="n">people</th></tr></thead>
<tbody>
{{range .Population.Sizes}}<tr class="size-bin"><td>{{.Label}}</td><td class="n">{{.Cohorts}}</td><td class="n">{{.People}}</td></tr>
{{end}}</tbody>
</table>
<table>
<thead><tr><th>cohort</th><th class="n">true size</th><th class="n">reports about it</th><th class="n">collector's estimate</th><th class="n">95%</th></tr></thead>
<tbody>
{{range .Population.Cohorts}}{{if or .True .Reported (not .Suppressed)}}<tr class="cohort" data-id="{{.ID}}"><td><code>{{.ID}}</code></td><td class="n">{{.True}}</td><td class="n">{{.Reported}}</td><td class="n">{{if .Suppressed}}suppressed{{else if .Estimate}}{{round .Estimate}}{{end}}</td><td class="n">{{if not .Suppressed}}{{ci .StdErr}}{{end}}</td></tr>
{{end}}{{end}}</tbody>
</table>
</section>
{{with .Experiments}}{{template "experiments" .}}{{end}}
{{end}}
</body>
</html>
{{end}}
`
