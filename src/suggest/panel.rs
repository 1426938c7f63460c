//! The phrase library as an agent's quick-reply panel shows it (快捷短语): its scenes, and every
//! phrase of one scene or of all, scene by scene, each with the variables it needs filled
//! and its own lint result.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fill_vars;
use super::kb::Phrase;
use crate::lint::{LintRequest, LintResult, Linter};

/// The shipped library's scenes as an agent reads them (问候 for greeting); a shop's own scenes
/// are their own label.
pub const SCENE_LABELS: &[(&str, &str)] = &[
    ("greeting", "问候"),
    ("waiting", "稍等"),
    ("apology", "致歉"),
    ("thanks", "感谢"),
    ("closing", "结束语"),
    ("confirm", "确认"),
    ("ask", "询问"),
    ("promise", "承诺"),
    ("soothe", "安抚"),
    ("notice", "告知"),
    ("logistics", "物流"),
];

/// The label a panel shows for `scene`.
pub fn scene_label(scene: &str) -> &str {
    SCENE_LABELS
        .iter()
        .find(|(id, _)| same_scene(id, scene))
        .map_or(scene, |(_, label)| label)
}

/// One scene of the library and how many phrases it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Scene {
    pub scene: String,
    /// What a panel shows for it (问候 for greeting; a shop's own scene as written).
    pub label: String,
    pub phrases: usize,
}

/// One phrase, ready for the panel.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PanelPhrase {
    pub id: String,
    pub scene: String,
    pub text: String,
    /// What customers say that calls for the phrase.
    pub tags: Vec<String>,
    /// The `{name}` variables the text uses, which the agent fills before sending.
    pub vars: Vec<String>,
    /// The phrase's own lint result (with its variables unfilled).
    pub lint: LintResult,
}

/// The panel: every scene, and the phrases asked for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhraseList {
    /// Every scene of the library, in the order its first phrase comes, whichever was asked for.
    pub scenes: Vec<Scene>,
    /// The phrases of the scene asked for (all of them when none was), scene by scene in the
    /// order above, each scene's in library order.
    pub phrases: Vec<PanelPhrase>,
}

impl PhraseList {
    /// Whether `scene` names one of the library's scenes, by its name or its label.
    pub fn has_scene(&self, scene: &str) -> bool {
        self.scenes
            .iter()
            .any(|s| same_scene(&s.scene, scene) || same_scene(&s.label, scene))
    }

    /// When `scene` names none of the library's scenes, what to say: it and the scenes there are.
    pub fn unknown_scene(&self, scene: &str) -> Option<String> {
        if self.has_scene(scene) {
            return None;
        }
        let scenes = self.scene_names();
        Some(format!(
            "no phrase has the scene `{scene}`; the scenes are: {}",
            if scenes.is_empty() {
                "none (the library is empty)".to_owned()
            } else {
                scenes.join(", ")
            }
        ))
    }

    /// The scenes as a person asks for them, for an error that lists them: `greeting (问候)`.
    fn scene_names(&self) -> Vec<String> {
        self.scenes
            .iter()
            .map(|s| {
                if s.label == s.scene {
                    s.scene.clone()
                } else {
                    format!("{} ({})", s.scene, s.label)
                }
            })
            .collect()
    }
}

/// Scene names compare with surrounding space and letter case aside (`Greeting ` is `greeting`).
fn same_scene(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The panel of `phrases` (in library order), only `scene`'s phrases when one is given.
pub fn list(phrases: &[Phrase], linter: &Linter, scene: Option<&str>) -> PhraseList {
    let mut scenes: Vec<Scene> = Vec::new();
    for p in phrases {
        match scenes.iter_mut().find(|s| s.scene == p.scene) {
            Some(s) => s.phrases += 1,
            None => scenes.push(Scene {
                scene: p.scene.clone(),
                label: scene_label(&p.scene).to_owned(),
                phrases: 1,
            }),
        }
    }
    // Grouped by scene, in the scenes' order; the library's order within each.
    let mut listed: Vec<&Phrase> = phrases
        .iter()
        .filter(|p| {
            scene.is_none_or(|s| same_scene(&p.scene, s) || same_scene(scene_label(&p.scene), s))
        })
        .collect();
    listed.sort_by_key(|p| scenes.iter().position(|s| s.scene == p.scene));
    let phrases = listed
        .into_iter()
        .map(|p| PanelPhrase {
            id: p.id.clone(),
            scene: p.scene.clone(),
            text: p.text.clone(),
            tags: p.tags.clone(),
            // Filling from nothing reports every variable the text uses.
            vars: fill_vars(&p.text, &BTreeMap::new()).1,
            // The shop's own phrases: meaning is judged by `kefu kb check`, not per listing.
            lint: linter.lint(&LintRequest {
                skip_meaning: true,
                ..LintRequest::new(&p.text)
            }),
        })
        .collect();
    PhraseList { scenes, phrases }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(id: &str, scene: &str, text: &str) -> Phrase {
        Phrase {
            id: id.to_owned(),
            scene: scene.to_owned(),
            text: text.to_owned(),
            tags: vec!["在吗".to_owned()],
        }
    }

    #[test]
    fn lists_scenes_in_library_order_and_filters_by_one() {
        let linter = Linter::with_defaults().unwrap();
        let library = [
            phrase("g1", "greeting", "您好，请问有什么可以帮您？"),
            phrase(
                "l1",
                "logistics",
                "您的包裹已由{courier}发出，单号{tracking}，请您留意查收。",
            ),
            phrase("g2", "greeting", "您好，欢迎光临！"),
            phrase("c1", "closing", "感谢您的耐心，再见！"),
        ];
        let all = list(&library, &linter, None);
        let scenes: Vec<(&str, usize)> = all
            .scenes
            .iter()
            .map(|s| (s.scene.as_str(), s.phrases))
            .collect();
        assert_eq!(scenes, [("greeting", 2), ("logistics", 1), ("closing", 1)]);
        let ids: Vec<&str> = all.phrases.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["g1", "g2", "l1", "c1"], "grouped by scene");
        assert_eq!(all.phrases[2].vars, ["courier", "tracking"]);
        assert!(all.phrases[0].vars.is_empty());

        let greetings = list(&library, &linter, Some(" Greeting"));
        let ids: Vec<&str> = greetings.phrases.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["g1", "g2"]);
        assert_eq!(
            greetings.scenes, all.scenes,
            "every scene is listed either way"
        );
        assert!(greetings.has_scene("GREETING") && !greetings.has_scene("farewell"));
        assert!(list(&library, &linter, Some("farewell")).phrases.is_empty());
    }

    #[test]
    fn a_blunt_phrase_carries_its_findings() {
        let linter = Linter::with_defaults().unwrap();
        let panel = list(
            &[
                phrase("x", "closing", "不知道，自己去查。"),
                phrase("y", "thanks", "谢谢您！"),
            ],
            &linter,
            None,
        );
        assert!(
            panel.phrases[0].lint.score < 100,
            "{:?}",
            panel.phrases[0].lint
        );
        assert!(!panel.phrases[0].lint.findings.is_empty());
        assert!(panel.phrases[1].lint.findings.is_empty());
    }
}
