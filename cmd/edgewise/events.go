package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/edgewise/edgewise/engine"
	"github.com/edgewise/edgewise/internal/suggest"
)

// readEvents reads decide's --events file: a JSON list of events, or one
// event, each {"type": "view", "item": "trail-shoe", "at": 1764400000000}
// with at in Unix milliseconds. Every problem is reported at once, each at
// its event's line and column.
func readEvents(path string) ([]engine.Event, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(src)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		// One event on its own is a list of one.
		start := bytes.IndexByte(src, '{')
		src = append(append(append([]byte(nil), src[:start]...), '['), append(src[start:], ']')...)
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, fmt.Errorf("%s: the events file must be a JSON list of events such as [{\"type\": \"view\", \"item\": \"ID\", \"at\": 1764400000000}]", path)
	}
	var events []engine.Event
	var problems []string
	for n := 1; dec.More(); n++ {
		off := int(dec.InputOffset())
		for off < len(src) && (src[off] == ',' || src[off] == ' ' || src[off] == '\n' || src[off] == '\r' || src[off] == '\t') {
			off++
		}
		at := path + ":" + lineCol(src, off) + ": "
		var fields map[string]json.RawMessage
		if err := dec.Decode(&fields); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s%s: invalid JSON: %v", path+":", lineCol(src, int(se.Offset)), err)
			}
			problems = append(problems, at+"event "+strconv.Itoa(n)+" is not an object {type, item, at}")
			continue
		}
		ev, msgs := parseEvent(fields)
		for _, m := range msgs {
			problems = append(problems, at+"event "+strconv.Itoa(n)+m)
		}
		if len(msgs) == 0 {
			events = append(events, ev)
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return events, nil
}

// parseEvent reads one event's fields; each message starts after "event N".
func parseEvent(fields map[string]json.RawMessage) (engine.Event, []string) {
	var ev engine.Event
	var msgs []string
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if k != "type" && k != "item" && k != "at" {
			msgs = append(msgs, ": unknown field "+strconv.Quote(k)+"; an event has type, item and at")
		}
	}
	str := func(name string, dst *string) {
		raw, ok := fields[name]
		if !ok {
			return
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			msgs = append(msgs, ": "+name+" must be a string, got "+string(raw))
		}
	}
	str("type", &ev.Type)
	str("item", &ev.Item)
	switch {
	case fields["type"] == nil:
		msgs = append(msgs, " has no type: one of "+strings.Join(engine.EventTypes, ", "))
	case ev.Type != "" && !slices.Contains(engine.EventTypes, ev.Type):
		hint := "one of " + strings.Join(engine.EventTypes, ", ")
		if s := suggest.Closest(ev.Type, engine.EventTypes); s != "" {
			hint = "did you mean " + strconv.Quote(s) + "?"
		}
		msgs = append(msgs, ": type "+strconv.Quote(ev.Type)+" is not an event type; "+hint)
	}
	if fields["item"] == nil {
		msgs = append(msgs, " has no item: the catalogue id of the item")
	}
	if raw, ok := fields["at"]; !ok {
		msgs = append(msgs, " has no at: the time, in Unix milliseconds (such as 1764400000000)")
	} else if err := json.Unmarshal(raw, &ev.At); err != nil {
		msgs = append(msgs, ": at must be a number (Unix milliseconds), got "+string(raw))
	} else if ev.At <= 0 {
		msgs = append(msgs, ": at is "+string(raw)+"; it must be a positive time in Unix milliseconds")
	}
	return ev, msgs
}

// lineCol is the 1-based line and column of byte offset off in src.
func lineCol(src []byte, off int) string {
	off = min(off, len(src))
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(src[:off], '\n')
	return strconv.Itoa(line) + ":" + strconv.Itoa(col)
}
