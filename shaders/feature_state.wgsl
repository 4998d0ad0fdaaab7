// Per-feature state for tile materials: the tile's state table (one RGBA8 sRGB texel per feature ID,
// 256 a row; src/feature_state.rs writes it) and what each state does to a fragment.
#define_import_path citytwin::feature_state

@group(#{MATERIAL_BIND_GROUP}) @binding(100) var feature_state_table: texture_2d<f32>;

// Section planes (src/bim/section.rs): `count` planes (n, w) in render space; a fragment with
// n·p + w > 0 is cut away.
struct Sections {
    planes: array<vec4<f32>, 4>,
    count: u32,
}
@group(#{MATERIAL_BIND_GROUP}) @binding(101) var<uniform> sections: Sections;
// The caps' colour on the cut, linear RGB (sRGB 224, 82, 72).
const CAP_RGB: vec3<f32> = vec3<f32>(0.745, 0.085, 0.064);

const TABLE_WIDTH: u32 = 256u;
const HIDDEN: u32 = 1u;
const HIGHLIGHTED: u32 = 2u;
const XRAY: u32 = 4u;
const COLOURED: u32 = 8u;
// The highlight, linear RGB (sRGB 255, 204, 26).
const HIGHLIGHT_RGB: vec3<f32> = vec3<f32>(1.0, 0.604, 0.010);

struct FeatureState {
    flags: u32,
    // Linear RGB (the table is sRGB; its alpha, the flags, is stored linear).
    rgb: vec3<f32>,
}

// The state of the feature whose ID the vertex carried (in its last UV channel: the second beside
// texture coordinates, else the first). A part with no table (Bevy's 1×1 fallback stands in), a
// negative ID or one past the table has the default state.
fn feature_state(feature_id: f32) -> FeatureState {
    var s: FeatureState;
    s.flags = 0u;
    s.rgb = vec3<f32>(0.0);
    if feature_id < 0.0 || textureDimensions(feature_state_table).x != TABLE_WIDTH {
        return s;
    }
    let id = u32(round(feature_id));
    let at = vec2<u32>(id % TABLE_WIDTH, id / TABLE_WIDTH);
    if at.y >= textureDimensions(feature_state_table).y {
        return s;
    }
    let texel = textureLoad(feature_state_table, at, 0);
    s.flags = u32(round(texel.a * 255.0));
    s.rgb = texel.rgb;
    return s;
}

// Hidden features are not drawn; x-rayed ones every other pixel (in shadows too: a lighter shadow).
fn discard_hidden(s: FeatureState, frag_coord: vec4<f32>) {
    if (s.flags & HIDDEN) != 0u {
        discard;
    }
    if (s.flags & XRAY) != 0u && ((u32(frag_coord.x) + u32(frag_coord.y)) & 1u) == 0u {
        discard;
    }
}

// The base colour a state gives a fragment whose material says `base`.
fn state_colour(s: FeatureState, base: vec4<f32>) -> vec4<f32> {
    var rgb = base.rgb;
    if (s.flags & COLOURED) != 0u {
        rgb = s.rgb;
    }
    if (s.flags & HIGHLIGHTED) != 0u {
        rgb = mix(rgb, HIGHLIGHT_RGB, 0.75);
    }
    return vec4<f32>(rgb, base.a);
}

// Discards what the section planes cut away.
fn discard_sectioned(world_position: vec3<f32>) {
    for (var i = 0u; i < min(sections.count, 4u); i += 1u) {
        let plane = sections.planes[i];
        if dot(plane.xyz, world_position) + plane.w > 0.0 {
            discard;
        }
    }
}

// Whether the section planes are on (back faces seen through the cut are then its caps).
fn sectioned() -> bool {
    return sections.count > 0u;
}

// The cap's normal: the nearest plane's, facing the viewer.
fn cap_normal(world_position: vec3<f32>) -> vec3<f32> {
    var best = sections.planes[0];
    for (var i = 1u; i < min(sections.count, 4u); i += 1u) {
        let plane = sections.planes[i];
        if abs(dot(plane.xyz, world_position) + plane.w) < abs(dot(best.xyz, world_position) + best.w) {
            best = plane;
        }
    }
    return best.xyz;
}
