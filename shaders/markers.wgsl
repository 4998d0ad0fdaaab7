// Live sensor markers (src/viewer/markers/draw.rs): one instance per sensor or cluster. Each
// instance's centre is in the render frame (y up); the symbol keeps about the same size on screen,
// stands on its site, and pulses for an alarm. Vertex inputs only, so it runs on WebGL2.

#import bevy_pbr::mesh_view_bindings::{view, globals}

struct Vertex {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    // xyz: the site, w: the symbol's size relative to one sensor's.
    @location(8) site_scale: vec4<f32>,
    // rgb: sRGB colour, w: 1 pulses.
    @location(9) color_pulse: vec4<f32>,
};

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) color: vec4<f32>,
};

// A sensor's symbol spans about this share of its distance (≈ 12 px at 1000 px for a 60° view).
const SIZE_PER_METRE: f32 = 0.007;

@vertex
fn vertex(v: Vertex) -> VertexOutput {
    let site = v.site_scale.xyz;
    let distance = length(view.world_position - site);
    let pulse = v.color_pulse.w * (0.5 + 0.5 * sin(globals.time * 6.0));
    let size = clamp(distance * SIZE_PER_METRE, 0.8, 4000.0) * v.site_scale.w * (1.0 + 0.4 * pulse);
    // Stand on the site: the symbol's lowest point (about -1 unit) at the site.
    let world = site + (v.position + vec3<f32>(0.0, 1.0, 0.0)) * size;
    var out: VertexOutput;
    out.clip_position = view.clip_from_world * vec4<f32>(world, 1.0);
    let light = 0.6 + 0.4 * max(dot(normalize(v.normal), normalize(vec3<f32>(0.4, 1.0, 0.3))), 0.0);
    let srgb = min(v.color_pulse.rgb * light + vec3<f32>(0.3 * pulse), vec3<f32>(1.0));
    out.color = vec4<f32>(pow(srgb, vec3<f32>(2.2)), 1.0);
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    return in.color;
}
