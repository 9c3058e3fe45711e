module github.com/go-personalize/sdk

go 1.26.0

require (
	github.com/a-h/templ v0.3.1100
	github.com/andybalholm/cascadia v1.3.4
	github.com/google/uuid v1.6.0
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	github.com/sony/gobreaker/v2 v2.4.0
	github.com/stretchr/testify v1.12.1
	github.com/x-way/crawlerdetect v0.2.24
	go.uber.org/goleak v1.3.0
	golang.org/x/net v0.59.0
	golang.org/x/time v0.16.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
