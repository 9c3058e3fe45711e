package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// The JSON form of flows files; see the package documentation for the format.
type (
	flowsFile struct {
		Flows []json.RawMessage `json:"flows"`
	}
	flowJSON struct {
		FriendlyID string            `json:"friendlyId"`
		Response   json.RawMessage   `json:"response"`
		Rules      []json.RawMessage `json:"rules"`
		Fault      *faultJSON        `json:"fault"`
		UTMShape   string            `json:"utmShape"`
		Variant    *int              `json:"variant"`
	}
	ruleJSON struct {
		When     *whenJSON       `json:"when"`
		Response json.RawMessage `json:"response"`
	}
	whenJSON struct {
		UTM              map[string]string `json:"utm"`
		Returning        *bool             `json:"returning"`
		Event            string            `json:"event"`
		Viewed           string            `json:"viewed"`
		Language         string            `json:"language"`
		PointOfSale      string            `json:"pointOfSale"`
		Params           map[string]string `json:"params"`
		CallCountAtLeast int               `json:"callCountAtLeast"`
	}
	faultJSON struct {
		Latency     string `json:"latency"`
		Status      int    `json:"status"`
		Malformed   bool   `json:"malformed"`
		Oversized   int    `json:"oversized"`
		ErrorObject bool   `json:"errorObject"`
		Hang        bool   `json:"hang"`
		Reset       bool   `json:"reset"`
		Empty       bool   `json:"empty"`
	}
)

// LoadFlowsFile reads flows from a JSON file (see LoadFlows).
func LoadFlowsFile(path string) ([]*FlowDef, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: flows file: %w", err)
	}
	defer f.Close()
	flows, err := LoadFlows(f)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return flows, nil
}

// LoadFlows reads flows from JSON in the format the package documentation describes. Unknown
// fields, duplicate friendly IDs, rules without a condition or a response, and invalid
// durations are errors that name the flow and rule at fault.
func LoadFlows(r io.Reader) ([]*FlowDef, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("sandbox: flows file: %w", err)
	}
	var file flowsFile
	if err := strictDecode(data, &file); err != nil {
		return nil, fmt.Errorf("sandbox: flows file: %s", describe(err, data))
	}
	if file.Flows == nil {
		return nil, errors.New(`sandbox: flows file: no "flows" array`)
	}
	seen := make(map[string]bool, len(file.Flows))
	out := make([]*FlowDef, 0, len(file.Flows))
	for i, raw := range file.Flows {
		f, err := loadFlow(raw)
		where := fmt.Sprintf("flow %d", i+1)
		if f != nil && f.id != "" {
			where += fmt.Sprintf(" (%q)", f.id)
		}
		if err != nil {
			return nil, fmt.Errorf("sandbox: flows file: %s: %s", where, describe(err, raw))
		}
		if seen[f.id] {
			return nil, fmt.Errorf("sandbox: flows file: %s: friendlyId defined twice", where)
		}
		seen[f.id] = true
		out = append(out, f)
	}
	return out, nil
}

// loadFlow decodes one flow. It returns the flow so far with an error, so the error can name it.
func loadFlow(raw json.RawMessage) (*FlowDef, error) {
	var fj flowJSON
	if err := strictDecode(raw, &fj); err != nil {
		// Decode the friendly ID alone so the error can name the flow.
		var id struct {
			FriendlyID string `json:"friendlyId"`
		}
		_ = json.Unmarshal(raw, &id)
		return &FlowDef{id: id.FriendlyID}, err
	}
	f := &FlowDef{id: fj.FriendlyID}
	if strings.TrimSpace(fj.FriendlyID) == "" {
		return f, errors.New("friendlyId is missing or empty")
	}
	if len(fj.Response) == 0 {
		return f, errors.New(`"response" is missing`)
	}
	f.response = fj.Response
	switch fj.UTMShape {
	case "", "nested":
	case "flat":
		f.utmShape = UTMFlat
	default:
		return f, fmt.Errorf(`"utmShape" must be "nested" or "flat", got %q`, fj.UTMShape)
	}
	if fj.Variant != nil {
		f.variant = VariantAt(*fj.Variant)
	}
	for i, rr := range fj.Rules {
		var rj ruleJSON
		if err := strictDecode(rr, &rj); err != nil {
			return f, fmt.Errorf("rule %d: %s", i+1, describe(err, rr))
		}
		if rj.When == nil {
			return f, fmt.Errorf(`rule %d: "when" is missing`, i+1)
		}
		rule, err := rj.When.rule()
		if err != nil {
			return f, fmt.Errorf("rule %d: %w", i+1, err)
		}
		if len(rj.Response) == 0 {
			return f, fmt.Errorf(`rule %d: "response" is missing`, i+1)
		}
		f.rules = append(f.rules, flowRule{rule: rule, response: rj.Response})
	}
	if fj.Fault != nil {
		fault, err := fj.Fault.fault()
		if err != nil {
			return f, fmt.Errorf("fault: %w", err)
		}
		f.fault = fault
	}
	return f, nil
}

// rule is the conjunction of the conditions of a "when".
func (w *whenJSON) rule() (Rule, error) {
	var rules []Rule
	for k, v := range w.UTM {
		rules = append(rules, UTMIs(k, v))
	}
	if w.Returning != nil {
		if *w.Returning {
			rules = append(rules, Returning())
		} else {
			rules = append(rules, Not(Returning()))
		}
	}
	if w.Event != "" {
		rules = append(rules, HasEvent(w.Event))
	}
	if w.Viewed != "" {
		rules = append(rules, Viewed(w.Viewed))
	}
	if w.Language != "" {
		rules = append(rules, LanguageIs(w.Language))
	}
	if w.PointOfSale != "" {
		rules = append(rules, PointOfSaleIs(w.PointOfSale))
	}
	for k, v := range w.Params {
		rules = append(rules, ParamIs(k, v))
	}
	if w.CallCountAtLeast < 0 {
		return nil, errors.New(`"callCountAtLeast" must not be negative`)
	}
	if w.CallCountAtLeast > 0 {
		rules = append(rules, CallCountAtLeast(w.CallCountAtLeast))
	}
	if len(rules) == 0 {
		return nil, errors.New(`"when" has no condition`)
	}
	return All(rules...), nil
}

func (fj *faultJSON) fault() (Fault, error) {
	f := Fault{
		Status:      fj.Status,
		Malformed:   fj.Malformed,
		Oversized:   fj.Oversized,
		ErrorObject: fj.ErrorObject,
		Hang:        fj.Hang,
		Reset:       fj.Reset,
		Empty:       fj.Empty,
	}
	if fj.Latency != "" {
		d, err := time.ParseDuration(fj.Latency)
		if err != nil {
			return f, fmt.Errorf(`"latency" must be a Go duration such as "100ms": %w`, err)
		}
		if d < 0 {
			return f, errors.New(`"latency" must not be negative`)
		}
		f.Latency = d
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return f, fmt.Errorf(`"status" must be between 400 and 599, got %d`, f.Status)
	}
	if f.Oversized < 0 {
		return f, errors.New(`"oversized" must not be negative`)
	}
	return f, nil
}

// strictDecode decodes exactly one JSON value into v, refusing unknown fields.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// describe turns JSON errors into messages that say where the problem is.
func describe(err error, data []byte) string {
	if syn, ok := errors.AsType[*json.SyntaxError](err); ok {
		line, col := position(data, syn.Offset)
		return fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, syn)
	}
	if typ, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := typ.Field
		if field == "" {
			field = "the top level"
		}
		return fmt.Sprintf("%s must be %s, not a JSON %s", field, typeName(typ.Type.Kind().String()), typ.Value)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "the JSON is empty or cut short"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func typeName(kind string) string {
	switch kind {
	case "slice":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64":
		return "a whole number"
	}
	return "a " + kind
}

func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := 0; i < len(data) && int64(i) < offset-1; i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
