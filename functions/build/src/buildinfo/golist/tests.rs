use super::*;

#[test]
fn a_go_list_stream_with_a_replacement() {
    let text = r#"{
	"Path": "example.com/app",
	"Main": true,
	"Dir": "/src/app",
	"GoMod": "/src/app/go.mod",
	"GoVersion": "1.19"
}
{
	"Path": "example.com/greet",
	"Version": "v1.1.0",
	"Replace": {
		"Path": "../greet-v1.1.0",
		"Dir": "/src/greet-v1.1.0",
		"GoMod": "/src/greet-v1.1.0/go.mod",
		"GoVersion": "1.19"
	},
	"Dir": "/src/greet-v1.1.0",
	"GoMod": "/src/greet-v1.1.0/go.mod",
	"GoVersion": "1.19"
}
{
	"Path": "golang.org/x/text",
	"Version": "v0.3.7",
	"Time": "2021-08-13T16:37:28Z",
	"Indirect": true,
	"Sum": "h1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=",
	"GoModSum": "h1:9h8Ujou8fOsVw8bFy5kZXLN0eWxYpWm8H5FXYhAPjPM="
}
"#;
    assert!(looks_like_go_list(text));
    let info = parse(text).unwrap();
    assert_eq!(info.path.as_deref(), Some("example.com/app"));
    assert_eq!(info.deps.len(), 2);
    assert_eq!(
        info.deps[0].display(),
        "example.com/greet@v1.1.0 => ../greet-v1.1.0"
    );
    assert!(info.deps[1].sum.as_deref().unwrap().starts_with("h1:olpw"));
    assert!(parse("{\"Path\": 3}").is_err());
}
