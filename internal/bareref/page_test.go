package bareref

import (
	"encoding/json"
	"html/template"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewSlotView(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		want   slotView
	}{
		{"object", `{"Title":"Sale","text":"Now","trackingUrl":"http://t/1"}`,
			slotView{Flow: FlowBanner, Personalized: true, Title: "Sale", Text: "Now", Link: "http://t/1"}},
		{"array of offers", `[{"Name":"Seat","trackingUrl":"http://t/2"},{"x":1},{"name":"Bag"}]`,
			slotView{Flow: FlowBanner, Personalized: true, Title: "Fly for less",
				Items: []itemView{{Name: "Seat", Link: "http://t/2"}, {Name: "Bag"}}}},
		{"object holding offers", `{"a":[1],"offers":[{"title":"Kyoto"}]}`,
			slotView{Flow: FlowBanner, Personalized: true, Title: "Fly for less",
				Items: []itemView{{Name: "Kyoto"}}}},
		{"empty object", `{}`, defaultSlot(FlowBanner)},
		{"no answer", `null`, defaultSlot(FlowBanner)},
		{"scalar", `"x"`, defaultSlot(FlowBanner)},
		{"title not a string", `{"title":3}`, defaultSlot(FlowBanner)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			require.NoError(t, json.Unmarshal([]byte(tt.answer), &v))
			assert.Equal(t, tt.want, newSlotView(FlowBanner, v))
		})
	}
}

func TestDefaultSlotsHaveContent(t *testing.T) {
	for _, flow := range []string{FlowBanner, FlowDestinations, FlowNewsletter, "other"} {
		v := defaultSlot(flow)
		assert.False(t, v.Personalized, flow)
		assert.NotEmpty(t, v.Title, flow)
	}
}

// FuzzSlotView feeds API answers to the slot reader and the page: any JSON renders.
func FuzzSlotView(f *testing.F) {
	for _, s := range []string{`{"title":"a"}`, `[{"Name":"b","trackingUrl":"javascript:alert(1)"}]`,
		`{"offers":[{"name":"<script>"}]}`, `null`, `[]`, `{"TITLE":"x","Text":1}`} {
		f.Add([]byte(s))
	}
	page := template.Must(template.New("home").Parse(homeTemplate))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		s := newSlotView(FlowDestinations, v)
		if !s.Personalized {
			assert.Equal(t, defaultSlot(FlowDestinations), s)
		}
		assert.LessOrEqual(t, len(s.Items), maxItems)
		require.NoError(t, page.Execute(io.Discard, homeView{Slots: []slotView{s}}))
	})
}
