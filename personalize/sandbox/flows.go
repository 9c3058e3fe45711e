package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
)

// FlowDef defines a flow: its friendly ID, a default response, responses chosen by rules and
// an optional fault. Build one with Flow; the sandbox takes a snapshot when it is added, so
// changing a FlowDef afterwards does not change a running sandbox (add it again instead).
type FlowDef struct {
	id       string
	response json.RawMessage
	rules    []flowRule
	fault    Fault
	utmShape UTMShape
	variant  func(r *Request) string
}

type flowRule struct {
	rule     Rule
	response json.RawMessage
}

// emptyResponse is the answer of a flow defined without a response.
var emptyResponse = json.RawMessage(`{}`)

// Define starts the definition of the flow with this friendly ID. Until Returns is called its
// response is {}.
func Define(friendlyID string) *FlowDef {
	return &FlowDef{id: friendlyID}
}

// FriendlyID is the flow's friendly ID.
func (f *FlowDef) FriendlyID() string { return f.id }

// Returns sets the default response: any value encoding/json can marshal, or a
// json.RawMessage / []byte holding JSON as it should be sent. Offers in it may ask for a
// tracking link (see the package documentation). It panics when the value is not JSON.
func (f *FlowDef) Returns(response any) *FlowDef {
	f.response = mustJSON(f.id, response)
	return f
}

// When adds a rule: the first rule (in the order added) that matches the request chooses
// response; when none matches, the default response is sent. It panics on a nil rule or a
// response that is not JSON.
func (f *FlowDef) When(rule Rule, response any) *FlowDef {
	if rule == nil {
		panic(fmt.Sprintf("sandbox: flow %q: nil rule", f.id))
	}
	f.rules = append(f.rules, flowRule{rule: rule, response: mustJSON(f.id, response)})
	return f
}

// WithUTMShape sets where the flow reads UTM parameters (UTMIs, Request.UTM): UTMNested
// (params.utm.campaign, the default) or UTMFlat (params.utm_campaign), as a Personalize
// condition is written against one of them. A client that sends the other shape does not
// reach the flow's UTM rules. It panics on an unknown shape.
func (f *FlowDef) WithUTMShape(shape UTMShape) *FlowDef {
	if shape != UTMNested && shape != UTMFlat {
		panic(fmt.Sprintf("sandbox: flow %q: unknown UTM shape %d", f.id, uint8(shape)))
	}
	f.utmShape = shape
	return f
}

// ReturnsVariant makes the flow answer an Edge call that offers variants (Request.Variants,
// the body's variants) with {"variantId": pick(r)}, the answer JSS and the Content SDK read
// from an embedded or component personalization (content-sdk nextjs
// personalize-middleware.ts). pick sees the request as rules do; when it returns "" or an ID
// the request did not offer, or the request offers none (every /v2/callFlows call), the flow
// answers as it would without ReturnsVariant: its first matching rule's response, or its
// default. VariantAt(i) picks by position. A panicking pick answers 500, as a panicking rule
// does. It panics on a nil pick.
func (f *FlowDef) ReturnsVariant(pick func(r *Request) string) *FlowDef {
	if pick == nil {
		panic(fmt.Sprintf("sandbox: flow %q: nil variant pick", f.id))
	}
	f.variant = pick
	return f
}

// VariantAt picks, for ReturnsVariant, the offered variant at index i of Request.Variants,
// counting from the end when i is negative (-1 is the last: a component experience's
// personalized variant, as JSS offers [<componentId>_default, <componentId>_<variantId>]);
// "" when there is none at i.
func VariantAt(i int) func(r *Request) string {
	return func(r *Request) string {
		if r == nil {
			return ""
		}
		j := i
		if j < 0 {
			j += len(r.Variants)
		}
		if j < 0 || j >= len(r.Variants) {
			return ""
		}
		return r.Variants[j]
	}
}

// WithFault makes every call of this flow fail as the fault says (SetFlowFault overrides it
// at run time).
func (f *FlowDef) WithFault(fault Fault) *FlowDef {
	f.fault = fault
	return f
}

func mustJSON(id string, v any) json.RawMessage {
	var raw []byte
	switch v := v.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("sandbox: flow %q: response cannot be encoded as JSON: %v", id, err))
		}
		raw = b
	}
	if !json.Valid(raw) {
		panic(fmt.Sprintf("sandbox: flow %q: response is not valid JSON", id))
	}
	return append(json.RawMessage(nil), raw...)
}

// flow is a FlowDef as the sandbox runs it: responses compiled for offer minting.
type flow struct {
	id       string
	response *template
	rules    []compiledRule
	fault    Fault
	utmShape UTMShape
	variant  func(r *Request) string
}

type compiledRule struct {
	rule     Rule
	response *template
}

func compile(f *FlowDef) *flow {
	resp := f.response
	if resp == nil {
		resp = emptyResponse
	}
	c := &flow{id: f.id, response: newTemplate(resp), fault: f.fault, utmShape: f.utmShape, variant: f.variant}
	for _, r := range f.rules {
		c.rules = append(c.rules, compiledRule{rule: r.rule, response: newTemplate(r.response)})
	}
	return c
}

// choose returns the variant the flow's pick chose among the offered ones, else the response
// of the first matching rule, or the default. A panicking rule or pick is reported as an error
// rather than crashing the handler.
func (f *flow) choose(r *Request) (t *template, err error) {
	if f.variant != nil && len(r.Variants) > 0 {
		var v string
		if perr := safely(func() { v = f.variant(r) }); perr != nil {
			return nil, fmt.Errorf("sandbox: flow %q: variant pick panicked: %v", f.id, perr)
		}
		if v != "" && slices.Contains(r.Variants, v) {
			b, _ := json.Marshal(variantAnswer{VariantID: v}) // a string always marshals
			return &template{raw: b}, nil                     // no holes: the ID is data
		}
	}
	for i, cr := range f.rules {
		ok, perr := safeMatch(cr.rule, r)
		if perr != nil {
			return nil, fmt.Errorf("sandbox: flow %q: rule %d panicked: %v", f.id, i+1, perr)
		}
		if ok {
			return cr.response, nil
		}
	}
	return f.response, nil
}

func safeMatch(rule Rule, r *Request) (ok bool, err error) {
	err = safely(func() { ok = rule(r) })
	return ok, err
}

// safely runs fn, returning its panic as an error.
func safely(fn func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	fn()
	return nil
}

// variantAnswer is a flow's answer for ReturnsVariant.
type variantAnswer struct {
	VariantID string `json:"variantId"`
}

// destinations lists the destinations the flow's offers name.
func (f *flow) destinations() []string {
	var out []string
	add := func(t *template) {
		for _, h := range t.holes {
			if h.destination != "" {
				out = append(out, h.destination)
			}
		}
	}
	add(f.response)
	for _, r := range f.rules {
		add(r.response)
	}
	return out
}
